import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Reliability {
    /// Imports are bounded however they are framed: a size limit and a free-space floor checked
    /// as the bytes arrive, a minimum pace, and no job lock until the body is complete.
    @Suite("Import limits: size, free space and pace, checked while streaming", .serialized)
    struct ImportLimitTests {
        /// The head of a chunked import on a raw connection.
        static func chunkedHead(_ server: LiveServer) -> String {
            "POST /api/backups/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token)\r\n"
                + "Content-Type: application/gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        }

        static func chunk(_ bytes: [UInt8]) -> [UInt8] {
            Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + Array("\r\n".utf8)
        }

        /// Sends chunks of `size` bytes until the server answers (or `limit` bytes went out);
        /// returns the answer, read before the body ended, and how much was sent.
        static func streamUntilAnswered(
            _ connection: RawConnection, chunkSize: Int = 64 * 1024, limit: Int
        ) -> (RawResponse?, Int) {
            // One random piece, sent again and again (a byte at a time, random numbers are slow in a
            // debug build).
            var generator = SystemRandomNumberGenerator()
            let piece = chunk((0..<chunkSize).map { _ in UInt8.random(in: 0...255, using: &generator) })
            var sent = 0
            var answer: [UInt8] = []
            while sent < limit {
                guard connection.send(piece) else { break }
                sent += chunkSize
                if let received = connection.receive(timeout: 0), !received.isEmpty {
                    answer += received
                    break
                }
            }
            // The answer arrives without the body having ended (no last chunk was sent).
            let deadline = Date().addingTimeInterval(30)
            while RawResponse(answer) == nil || !answer.contains(UInt8(ascii: "}")), Date() < deadline {
                guard let more = connection.receive(timeout: 1) else { break }
                answer += more
            }
            return (RawResponse(answer), sent)
        }

        @Test("a chunked import past max_import_bytes gets 413 while it streams, and leaves no partial file")
        func sizeLimit() async throws {
            let directory = try Harness.dataDirectory("import-size", megabytes: 1)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let (invalid, refused) = try await server.request(
                "PUT", "/api/settings/backup", body: Data(#"{"max_import_bytes": 1000}"#.utf8))
            #expect(refused.statusCode == 422)
            #expect(String(decoding: invalid, as: UTF8.self).contains("max_import_bytes"))
            let (_, saved) = try await server.request(
                "PUT", "/api/settings/backup", body: Data(#"{"max_import_bytes": 1048576}"#.utf8))
            #expect(saved.statusCode == 200)

            let connection = try RawConnection(port: server.port)
            defer { connection.close() }
            connection.send(Self.chunkedHead(server))
            let (answer, sent) = Self.streamUntilAnswered(connection, limit: 64 << 20)
            // No last chunk was ever sent: the answer came while the body streamed.
            #expect(answer?.status == 413, "after \(sent) bytes")
            #expect(answer?.errorCode == "payload_too_large")
            #expect(sent < 64 << 20, "refused after \(sent) bytes")
            #expect(waitUntil(timeout: 10) { directory.temporaryFiles().isEmpty }, "\(directory.temporaryFiles())")

            // Announced in Content-Length: refused before a byte is stored.
            let announced = try RawConnection.exchange(
                port: server.port,
                Array(
                    ("POST /api/backups/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.token)\r\n"
                        + "Content-Type: application/gzip\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n").utf8
                ),
                timeout: 10)
            #expect(announced?.status == 413)
            #expect(directory.backupFiles().isEmpty)
        }

        @Test("a chunked import that would fill the disk gets 413 at the free-space floor; the next backup works")
        func freeSpaceFloor() async throws {
            guard let disk = try SmallDisk.mount(megabytes: 64) else { return }
            let data = disk.url.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try SampleDatabase.create(at: data.appendingPathComponent("app.sqlite"), megabytes: 1)
            let server = try LiveServer(dataDirectory: data.path, token: Harness.token)
            try await server.waitUntilReady()
            defer { _ = server.terminate() }

            let connection = try RawConnection(port: server.port)
            defer { connection.close() }
            connection.send(Self.chunkedHead(server))
            let (answer, sent) = Self.streamUntilAnswered(connection, limit: 128 << 20)
            #expect(answer?.status == 413, "after \(sent) bytes")
            #expect(answer?.errorCode == "payload_too_large")
            #expect(sent < 64 << 20, "refused before the disk was full (\(sent) bytes sent)")
            let temporary = data.appendingPathComponent("backups/.tmp")
            #expect(
                waitUntil(timeout: 10) {
                    ((try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? ["?"]).isEmpty
                })
            let made = try await server.backupAndWait()
            #expect(made.status == .completed, "\(made.error ?? "")")
        }

        @Test("a trickling import holds no lock (a backup starts meanwhile) and is cut off at the minimum pace")
        func tricklingClient() async throws {
            let directory = try Harness.dataDirectory("import-trickle", megabytes: 1)
            // 2 s without a byte, or under 1 KiB/s after 1 s: the trickle below breaks the second.
            let server = try await Harness.server(
                directory,
                extraArguments: ["--import-idle-timeout", "2", "--import-min-rate", "1", "--import-grace", "1"])
            defer { _ = server.terminate() }

            let trickle = try RawConnection(port: server.port)
            defer { trickle.close() }
            trickle.send(Self.chunkedHead(server))
            trickle.send(Self.chunk([0x1f]))
            #expect(waitUntil(timeout: 10) { !directory.temporaryFiles().isEmpty }, "the import is being received")

            // Meanwhile a backup starts and finishes: the import holds no lock.
            let made = try await server.backupAndWait()
            #expect(made.status == .completed)
            #expect(directory.temporaryFiles().contains { $0.hasPrefix("import-") }, "the partial survived the backup")

            // One byte every 0.3 s (never idle for 2 s) averages far under 1 KiB/s: cut off.
            let started = Date()
            var answer: [UInt8] = []
            while RawResponse(answer) == nil, Date().timeIntervalSince(started) < 20 {
                trickle.send(Self.chunk([0x8b]))
                guard let received = trickle.receive(timeout: 0.3) else { break }
                answer += received
            }
            let response = RawResponse(answer)
            #expect(response?.status == 408)
            #expect(response?.errorCode == "import_too_slow")
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(trickle.closedByPeer(timeout: 5), "the connection is closed, not left to trickle on")
            #expect(waitUntil(timeout: 10) { directory.temporaryFiles().isEmpty }, "\(directory.temporaryFiles())")

            // A client that sends a piece and then nothing: cut off after the idle limit.
            let silent = try RawConnection(port: server.port)
            defer { silent.close() }
            silent.send(Self.chunkedHead(server))
            silent.send(Self.chunk([0x1f, 0x8b]))
            let idle = RawResponse(silent.receiveAll(timeout: 8))
            #expect(idle?.status == 408)
            #expect(idle?.errorCode == "import_too_slow")
            #expect(waitUntil(timeout: 10) { directory.temporaryFiles().isEmpty })
            let (_, status) = try await server.request("GET", "/api/status")
            #expect(status.statusCode == 200)
        }
    }
}
