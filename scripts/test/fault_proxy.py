"""A small HTTP proxy in front of the loopback S3 server that injects faults (used by the tests).

Usage: fault_proxy.py LISTEN_PORT TARGET_PORT RULES_JSON

RULES_JSON is a list of {"method": "PUT", "match": "partNumber=2", "header": "x-amz-checksum-crc32",
"without": "range", "action": "500"|"stall"|"corrupt"|"reject"|"crc32"|"log", "times": 1,
"seconds": 30}. A request whose method is `method` (any when absent), whose path and query
contain a match of the regular expression `match`, which carries the header `header` and not the
header `without` (each when given) takes the first rule with `times` left:
"500" answers 500 InternalError without forwarding, "stall" answers nothing for `seconds`,
"corrupt" flips the first byte of the body and forwards it, "reject" answers 400 InvalidArgument
"Unsupported header '<header>' received for this API call." as Backblaze B2 does, "crc32" checks
the request's `x-amz-checksum-crc32` against its body as AWS does (400 BadDigest when it differs,
else forwarded), "log" forwards it unchanged and prints "fault log METHOD PATH range=RANGE" (the
Range header, `-` without one: what a test counts). Every other request is forwarded unchanged
to 127.0.0.1:TARGET_PORT (the Host header included, so signatures stay valid). Each rule taken
prints one "fault …" line.
"""

import base64
import zlib

import http.client
import http.server
import json
import re
import sys
import threading
import time

LISTEN_PORT, TARGET_PORT = int(sys.argv[1]), int(sys.argv[2])
RULES = json.loads(sys.argv[3])
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    def rule(self):
        with LOCK:
            for rule in RULES:
                if rule.get("times", 1) <= 0:
                    continue
                if rule.get("method", self.command) != self.command:
                    continue
                if not re.search(rule.get("match", ""), self.path):
                    continue
                if rule.get("header") and self.headers.get(rule["header"]) is None:
                    continue
                if rule.get("without") and self.headers.get(rule["without"]) is not None:
                    continue
                rule["times"] = rule.get("times", 1) - 1
                if rule["action"] == "log":
                    print(f"fault log {self.command} {self.path} range={self.headers.get('Range', '-')}", flush=True)
                elif rule["action"] != "crc32":  # that one prints its verdict
                    print(f"fault {rule['action']} {self.command} {self.path}", flush=True)
                return rule
        return None

    def error(self, status, code, message):
        payload = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        rule = self.rule()
        if rule and rule["action"] == "500":
            self.error(500, "InternalError", "injected")
            return
        if rule and rule["action"] == "reject":
            self.error(400, "InvalidArgument", f"Unsupported header '{rule['header']}' received for this API call.")
            return
        if rule and rule["action"] == "crc32":
            sent = self.headers.get("x-amz-checksum-crc32")
            actual = base64.b64encode(zlib.crc32(body or b"").to_bytes(4, "big")).decode()
            print(f"fault crc32 {'ok' if sent == actual else 'differs'} {self.command} {self.path}", flush=True)
            if sent != actual:
                self.error(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
                return
        if rule and rule["action"] == "stall":
            time.sleep(rule.get("seconds", 30))
            self.close_connection = True
            return
        if rule and rule["action"] == "corrupt" and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        upstream = http.client.HTTPConnection("127.0.0.1", TARGET_PORT, timeout=120)
        headers = {name: value for name, value in self.headers.items()}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() in ("transfer-encoding", "connection"):
                continue
            if name.lower() == "content-length" and self.command != "HEAD":
                continue
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", LISTEN_PORT), Handler).serve_forever()
