"""Runs `backup-api` on loopback for a benchmark and talks to it with http.client."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time

TOKEN = "bench-token-0123456789abcdef0123456789abcdef"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A `backup-api` process on 127.0.0.1; use as a context manager."""

    def __init__(self, binary, data_dir, database, log_path):
        self.port = free_port()
        env = dict(os.environ, BACKUP_API_TOKEN=TOKEN, BACKUP_LOG_LEVEL="warning")
        self.log = open(log_path, "w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", data_dir,
             "--database", database, "--restart-mode", "exit"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.ready_after = self._wait_ready()

    def _wait_ready(self, timeout=120):
        """Seconds from the process start until /healthz answers."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"backup-api exited with {self.process.returncode}; see {self.log.name}")
            try:
                status, _ = self.request("GET", "/healthz", auth=False, timeout=1)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError("backup-api did not become ready")

    @property
    def pid(self):
        return self.process.pid

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, auth=True, timeout=30):
        connection = self.connection(timeout)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}"} if auth else {}
            if body is not None:
                headers["Content-Type"] = "application/json"
                body = json.dumps(body)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, data
        finally:
            connection.close()

    def start_backup(self):
        """POSTs a backup; returns its id, or None when another job runs (409)."""
        status, data = self.request("POST", "/api/backups", body={})
        if status == 409:
            return None
        if status != 202:
            raise RuntimeError(f"POST /api/backups answered {status}: {data[:300]!r}")
        return json.loads(data)["id"]

    def wait_backup(self, backup_id, timeout=600):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            status, data = self.request("GET", f"/api/backups/{backup_id}")
            info = json.loads(data)
            if info["status"] in ("completed", "failed", "cancelled"):
                if info["status"] != "completed":
                    raise RuntimeError(f"backup {backup_id} ended {info['status']}: {info.get('error')}")
                return info
            time.sleep(0.02)
        raise RuntimeError(f"backup {backup_id} did not finish")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
