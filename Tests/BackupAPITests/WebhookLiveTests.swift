import BackupCore
import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Webhook alerts from the real server to a receiver on loopback", .serialized)
struct WebhookLiveTests {
    /// A small HTTP receiver: answers 500 to the first POST (to exercise the retry), 200 after.
    final class Receiver: Sendable {
        let bodies = Mutex<[Data]>([])
        let attempts = Mutex(0)

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("hook") { request, _ -> Response in
                var request = request
                let body = try await request.collectBody(upTo: 1024 * 1024)
                let attempt = self.attempts.withLock { value -> Int in
                    value += 1
                    return value
                }
                if attempt == 1 { return Response(status: .internalServerError) }
                self.bodies.withLock { $0.append(Data(body.readableBytesView)) }
                return Response(status: .ok)
            }
            return router
        }
    }

    @Test("a failed backup POSTs a JSON alert, retried after a failing first attempt, without blocking the job")
    func failedBackupAlerts() async throws {
        let receiver = Receiver()
        let receiverPort = try LiveServer.freePort()
        let app = Application(
            router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: receiverPort)))
        let receiverTask = Task { try await app.run() }
        defer { receiverTask.cancel() }

        let directory = TemporaryDirectory("live-webhook")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        defer { _ = server.terminate() }
        let (_, put) = try await server.request(
            "PUT", "/api/settings/backup",
            body: Data("{\"webhook_url\": \"http://127.0.0.1:\(receiverPort)/hook\"}".utf8))
        #expect(put.statusCode == 200)

        // A database that is not SQLite any more: the backup job fails.
        try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
        let (data, created) = try await server.request("POST", "/api/backups")
        #expect(created.statusCode == 202)
        let pending = try JSONDecoder.backupManager().decode(BackupInfo.self, from: data)

        var delivered: [Data] = []
        for _ in 0..<3000 where delivered.isEmpty {
            delivered = receiver.bodies.withLock { $0 }
            if delivered.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(receiver.attempts.withLock { $0 } == 2)
        let payload = try JSONDecoder.backupManager().decode(
            AlertNotifier.Payload.self, from: try #require(delivered.first))
        #expect(payload.event == "backup.failed")
        #expect(payload.backup?.id == pending.id)
        #expect(payload.backup?.status == .failed)
        #expect(!payload.message.isEmpty)

        let final = try JSONDecoder.backupManager().decode(
            BackupInfo.self, from: try await server.request("GET", "/api/backups/\(pending.id)").0)
        #expect(final.status == .failed)
        let stopped = server.terminate()
        // The first attempt's failure is logged: normally the receiver's 500; on a machine loaded
        // by the whole suite the receiver (in this test process) can answer after the attempt's
        // 10 s read timeout, which is logged as that attempt's failure instead (seen once).
        let log = stopped.stderr + stopped.stdout
        #expect(
            log.contains("webhook answered 500")
                || (log.contains("attempt=1") && log.contains("readTimeout") && log.contains("webhook failed")),
            "the server's log: \(stopped.stderr.suffix(3000)) \(stopped.stdout.suffix(3000))")
    }
}
