import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restore through the real server: the lock deadline, the drain deadline, descriptors", .serialized)
struct RestoreLockLiveTests {
    struct Job: Decodable { var phase: String? }
    struct Status: Decodable {
        var state: String
        var current_job: Job?
        var last_restore: RestoreOutcome?
    }

    /// Polls `/api/status` (riding over a restart's refused connections) until `condition`, for
    /// at most `timeout` seconds.
    func waitForStatus(
        _ server: LiveServer, timeout: TimeInterval = 30, _ condition: (Status) -> Bool
    ) async throws -> Status {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (data, response) = try? await server.request("GET", "/api/status"), response.statusCode == 200,
                let status = try? server.decode(Status.self, data), condition(status)
            {
                return status
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TimedOut()
    }

    struct TimedOut: Error {}

    /// A server on a sample database with one backup; the database changed since.
    func prepared(
        _ label: String, megabytes: Int = 1, arguments: [String] = []
    ) async throws -> (TemporaryDirectory, LiveServer, BackupInfo) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: megabytes)
        let server = try LiveServer(dataDirectory: directory.path, extraArguments: arguments)
        try await server.waitUntilReady()
        let info = try await server.backupAndWait()
        try TestDB.execute(
            directory.dataDirectory.database.path, "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1)")
        return (directory, server, info)
    }

    @Test("a transaction held open: waiting_for_lock, then failed after the deadline, database unchanged, no restart")
    func heldTransaction() async throws {
        let (directory, server, info) = try await prepared("live-restore-locked")
        defer { _ = server.terminate() }
        let (_, put) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"restore_lock_timeout_seconds": 2}"#.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(put.statusCode == 200)
        let path = directory.dataDirectory.database.path
        let before = try TestDB.fingerprint(path)
        let application = try HeldTransaction(path: path)
        let pid = server.process.pid

        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        let waiting = try await waitForStatus(server) { $0.current_job?.phase == "waiting_for_lock" }
        #expect(waiting.state == "maintenance")
        #expect(try await server.request("GET", "/healthz", authorized: false).1.statusCode == 200)
        let ended = try await waitForStatus(server) { $0.last_restore != nil && $0.state == "ready" }
        try application.release()

        #expect(ended.last_restore?.outcome == .failed)
        #expect(ended.last_restore?.error?.contains("restore_lock_timeout_seconds") == true)
        #expect(ended.last_restore?.safetyBackupID == nil)
        #expect(try TestDB.fingerprint(path) == before)
        #expect(server.process.pid == pid)
        #expect(try await server.request("GET", "/api/backups").1.statusCode == 200)
    }
}
