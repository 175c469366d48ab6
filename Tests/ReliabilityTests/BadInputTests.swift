import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Reliability {
    @Suite("Bad input: 4xx with the error JSON, never 5xx, and the server stays up", .serialized)
    struct BadInputTests {
        static let bodies: [String] = [
            "{", "nope", "[]", "null", "\"text\"", "42", "{\"note\": 5}", "{\"note\": [1, 2]}", "{\"note\": {}}",
            "{\"pinned\": \"yes\"}", "{\"pinned\": 1}", "{\"note\": \"a\\u0000b\"}", "{\"note\": \"bell\\u0007\"}",
            "{\"note\": \"esc\\u001b[31m\"}", "{\"note\": \"override \\u202etxet\"}",
            "{\"note\": \"isolate \\u2066x\\u2069\"}", "{\"note\": \"\(String(repeating: "n", count: 1001))\"}",
            "{\"note\": \"\\ud800\"}", "{\"interval_hours\": -1}", "{\"interval_hours\": 1e400}",
            "{\"interval_hours\": 99999999999999999999999}", "{\"interval_hours\": 1.5}", "{\"interval_hours\": \"6\"}",
            "{\"retention\": {\"keep_last\": -9223372036854775808}}", "{\"retention\": 7}",
            "{\"retention\": {\"keep_days\": true}}",
            "{\"compression_level\": 10}", "{\"compression_level\": -1}", "{\"webhook_url\": \"javascript:alert(1)\"}",
            "{\"webhook_url\": \"http://\\u0000/\"}", "{\"enabled\": \"true\"}", "{\"safety_backup\": \"no\"}",
            "{\"a\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}",
            "\u{feff}{}", "{\"note\": \"x\"} trailing",
        ]

        /// Notes a person may write: accepted (2xx), stored as sent.
        static let acceptableNotes = [
            "日本語のメモ", "emoji 😀🏳️‍🌈", "right-to-left مرحبا", "combining e\u{301}\u{301}", "tab\tand\nnewline",
        ]

        static let hostileIDs = [
            "..%2f..%2fapp.sqlite", "%2e%2e%2f%2e%2e%2fapi-token", "..%5c..%5capp.sqlite", "%00", "%ff%fe",
            "%F0%9F%98%80", "0123456789ABCDEF", "-1", "%0d%0aSet-Cookie:%20x=1", String(repeating: "a", count: 8000),
            "0123456789abcdef%00", "%252e%252e",
        ]

        /// Sends a raw request and checks the answer: not 5xx; an error JSON when 4xx.
        static func send(_ server: LiveServer, _ request: String, body: [UInt8] = []) throws -> RawResponse? {
            let response = try RawConnection.exchange(port: server.port, Array(request.utf8) + body)
            return response
        }

        static func request(
            _ method: String, _ target: String, token: String, body: String? = nil, extraHeaders: String = ""
        ) -> String {
            var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            text += extraHeaders
            if let body {
                text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            }
            return text + "Connection: close\r\n\r\n" + (body ?? "")
        }

        @Test("malformed JSON, wrong types, huge and negative numbers, control characters, hostile ids and queries")
        func routedInput() async throws {
            let directory = try Harness.dataDirectory("bad-input", megabytes: 1)
            let info = try Harness.createBackup(directory)
            let server = try await Harness.server(directory, extraArguments: ["--restart-mode", "exit"])
            defer { _ = server.terminate() }
            let token = server.token
            let missing = "0123456789abcdef"
            var requests = 0
            var statuses: [Int: Int] = [:]
            func check(_ label: String, _ raw: String) throws {
                let response = try Self.send(server, raw)
                requests += 1
                guard let response else {
                    Issue.record("\(label): no HTTP answer")
                    return
                }
                statuses[response.status, default: 0] += 1
                #expect(
                    response.status < 500,
                    "\(label): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
                if response.status >= 400 {
                    #expect(response.errorCode != nil, "\(label): \(response.status) without the error JSON")
                }
            }
            // Bodies on every route that reads one. Restore and delete use an unknown id, so that
            // a body that happens to be valid never restores or deletes.
            let bodyRoutes = [
                ("POST", "/api/backups"), ("PATCH", "/api/backups/\(info.id)"), ("PUT", "/api/settings/backup"),
                ("POST", "/api/backups/\(missing)/restore"), ("POST", "/api/backups/\(info.id)/verify"),
                ("POST", "/api/backups/\(info.id)/download-link"), ("POST", "/api/backups/import"),
                ("POST", "/api/backups/prune?dry_run=true"),
            ]
            for (method, path) in bodyRoutes {
                for body in Self.bodies {
                    try check(
                        "\(method) \(path) \(body.prefix(40))", Self.request(method, path, token: token, body: body))
                }
                // Oversized: 1 MiB of JSON.
                let big = "{\"note\": \"" + String(repeating: "x", count: 1 << 20) + "\"}"
                try check("\(method) \(path) 1 MiB", Self.request(method, path, token: token, body: big))
            }
            for note in Self.acceptableNotes {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: ["note": note]), as: UTF8.self)
                let response = try #require(
                    try Self.send(server, Self.request("PATCH", "/api/backups/\(info.id)", token: token, body: body)))
                requests += 1
                #expect(response.status == 200, "note \(note.debugDescription)")
                let stored = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(response.body))
                #expect(stored.note == note)
            }
            // Hostile ids on every route with an id.
            let idRoutes = try OpenAPIRoute.all().filter { $0.path.contains("{id}") }
            for id in Self.hostileIDs {
                for route in idRoutes {
                    try check(
                        "\(route) id \(id.prefix(40))",
                        Self.request(route.method, route.path(id: id), token: token, body: "{}"))
                }
            }
            // Queries.
            for query in [
                "limit=-1", "limit=0", "limit=99999999999999999999", "limit=1e3", "limit=%00", "limit=1&limit=2",
                "cursor=\(String(repeating: "c", count: 6000))", "cursor=%ff%fe", "cursor=-1", "type=%00",
                "status=running%0d%0a",
                "type=manual&type=auto", "status=" + String(repeating: "s", count: 3000),
            ] {
                try check(
                    "GET /api/backups?\(query.prefix(40))", Self.request("GET", "/api/backups?\(query)", token: token))
            }
            for query in ["dry_run=maybe", "dry_run=", "dry_run=%00", "dry_run=true&dry_run=false"] {
                try check(
                    "prune ?\(query)", Self.request("POST", "/api/backups/prune?\(query)", token: token, body: "{}"))
            }
            for range in [
                "bytes=-0", "bytes=99999999999999999999-", "bytes=5-1", "bytes=0-0,1-1", "bytes=abc", "pages=1-2",
            ] {
                try check(
                    "download Range \(range)",
                    Self.request(
                        "GET", "/api/backups/\(info.id)/download", token: token, extraHeaders: "Range: \(range)\r\n"))
            }
            // Unknown routes and methods.
            for (method, path) in [
                ("GET", "/api/nothing"), ("DELETE", "/api/backups"), ("PUT", "/api/backups/stats"),
                ("GET", "/api/backups/\(info.id)/download/extra"), ("GET", "/api//backups"),
                ("GET", "/api/backups/%2e%2e/%2e%2e/"),
            ] {
                try check("\(method) \(path)", Self.request(method, path, token: token))
            }

            #expect(server.process.process.isRunning)
            let (_, health) = try await server.request("GET", "/healthz", authorized: false)
            #expect(health.statusCode == 200)
            let (_, show) = try await server.request("GET", "/api/backups/\(info.id)")
            #expect(show.statusCode == 200)
            Intensity.figure(
                "bad-input suite: \(requests) hostile requests, none 5xx (statuses \(statuses.sorted { $0.key < $1.key }))"
            )
        }

        @Test("repeated and conflicting headers, broken framing, oversized declarations: refused, the server stays up")
        func headersAndFraming() async throws {
            let directory = try Harness.dataDirectory("bad-headers", megabytes: 1)
            let info = try Harness.createBackup(directory)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let token = server.token
            let wrong = "wrong-token-0123456789abcdef"
            var requests = 0
            func answer(_ raw: String, body: [UInt8] = []) throws -> RawResponse? {
                requests += 1
                return try Self.send(server, raw, body: body)
            }

            // Two Authorization headers, one of them right: ambiguous, so refused either way round.
            for pair in [(token, wrong), (wrong, token)] {
                let response = try #require(
                    try answer(
                        "GET /api/backups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pair.0)\r\n"
                            + "Authorization: Bearer \(pair.1)\r\nConnection: close\r\n\r\n"))
                #expect(
                    response.status == 401 || response.status == 400, "two Authorization headers: \(response.status)")
                #expect(response.errorCode != nil)
            }
            // Framing the HTTP parser refuses: the connection gets a 4xx or is closed, never a 5xx.
            let framings: [(String, String)] = [
                ("two different Content-Length", "Content-Length: 2\r\nContent-Length: 3\r\n"),
                ("Content-Length and chunked", "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"),
                ("negative Content-Length", "Content-Length: -1\r\n"),
                ("Content-Length not a number", "Content-Length: abc\r\n"),
                ("an unknown Transfer-Encoding", "Transfer-Encoding: gzip, chunked, identity\r\n"),
                ("a header without a colon", "Broken header line\r\n"),
                ("a 100 KiB header", "X-Big: \(String(repeating: "b", count: 100 * 1024))\r\n"),
                ("2000 headers", (0..<2000).map { "X-H\($0): v\r\n" }.joined()),
            ]
            for (name, headers) in framings {
                let raw =
                    "POST /api/backups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\(headers)Connection: close\r\n\r\n{}"
                if let response = try answer(raw) {
                    #expect((400..<500).contains(response.status), "\(name): \(response.status)")
                }
            }
            for garbage in [
                "FOO /api/backups HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GARBAGE\r\n\r\n", "GET\r\n\r\n",
                "GET / HTTP/9.9\r\n\r\n", "\u{0}\u{1}\u{2}\r\n\r\n",
            ] {
                if let response = try answer(garbage) {
                    #expect(
                        (400..<600).contains(response.status) && response.status != 500, "\(garbage.debugDescription)")
                }
            }
            // A body far larger than declared limits: refused early, without reading it all.
            for (path, length) in [
                ("/api/backups", 1 << 40), ("/api/settings/backup", 1 << 30), ("/api/backups/import", 1 << 50),
            ] {
                let method = path.hasSuffix("backup") ? "PUT" : "POST"
                let connection = try RawConnection(port: server.port)
                connection.send(
                    "\(method) \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(length)\r\n"
                        + "Connection: close\r\n\r\n")
                connection.send([UInt8](repeating: 0x7b, count: 128 * 1024))
                requests += 1
                let response = RawResponse(connection.receiveAll(timeout: 30))
                #expect(
                    response?.status == 413, "\(method) \(path) declaring \(length) bytes: \(response?.status ?? 0)")
                #expect(response?.errorCode == "payload_too_large")
                connection.close()
            }

            #expect(server.process.process.isRunning)
            let (_, show) = try await server.request("GET", "/api/backups/\(info.id)")
            #expect(show.statusCode == 200)
            #expect(waitUntil(timeout: 30) { directory.temporaryFiles().isEmpty })
            Intensity.figure("bad-input suite: \(requests) requests with hostile headers or framing, none 5xx")
        }
    }
}
