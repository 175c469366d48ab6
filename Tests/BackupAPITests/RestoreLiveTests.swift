import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Restore through the real server, then a graceful restart", .serialized)
struct RestoreLiveTests {
    struct Status: Decodable {
        var state: String
        var last_restore: RestoreOutcome?
    }

    struct Page: Decodable { var items: [BackupInfo] }

    /// Polls `/api/status` (riding over the restart's refused connections) until `condition`.
    func waitForStatus(_ server: LiveServer, _ condition: (Status) -> Bool) async throws -> Status {
        for _ in 0..<3000 {
            if let (data, response) = try? await server.request("GET", "/api/status"), response.statusCode == 200,
                let status = try? server.decode(Status.self, data), condition(status)
            {
                return status
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }

    /// A server on a data directory whose database changed after one backup.
    static func prepared(
        _ label: String, megabytes: Int = 2, arguments: [String] = []
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

    @Test(
        "restore: 202, the server restarts on the same port by itself, last_restore succeeded, data equals the backup's"
    )
    func restoreAndReexec() async throws {
        let (directory, server, info) = try await Self.prepared("live-restore")
        let pid = server.process.pid
        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        let status = try await waitForStatus(server) { $0.last_restore != nil && $0.state == "ready" }
        #expect(status.last_restore?.outcome == .succeeded)
        #expect(status.last_restore?.backupID == info.id)
        #expect(server.process.process.isRunning)
        #expect(server.process.pid == pid)  // re-executed in place
        #expect(try TestDB.int(directory.dataDirectory.database.path, "SELECT COUNT(*) FROM ledger") == 0)
        let safety = try server.decode(Page.self, try await server.request("GET", "/api/backups?type=pre-restore").0)
        #expect(safety.items.count == 1)
        #expect(safety.items.first?.id == status.last_restore?.safetyBackupID)
        let stopped = server.terminate()
        #expect(stopped.status == 0)
        #expect(stopped.stdout.contains("re-executing") || stopped.stderr.contains("re-executing"))
    }

    @Test("a corrupted bundle is refused: the job fails, nothing restarts, the database's bytes are unchanged")
    func corruptedRefused() async throws {
        let (directory, server, info) = try await Self.prepared("live-restore-corrupt")
        defer { _ = server.terminate() }
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        var bytes = try Data(contentsOf: bundle)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: bundle)
        let before = try Data(contentsOf: directory.dataDirectory.database)
        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        let status = try await waitForStatus(server) { $0.last_restore != nil && $0.state == "ready" }
        #expect(status.last_restore?.outcome == .failed)
        #expect(status.last_restore?.error?.contains("SHA-256") == true)
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
        #expect(try await server.request("GET", "/api/backups").1.statusCode == 200)
    }

    @Test("--restart-mode exit: the server exits 75 and a supervisor starts it again")
    func supervisorMode() async throws {
        let (directory, server, info) = try await Self.prepared(
            "live-restore-exit", arguments: ["--restart-mode", "exit"])
        _ = try await server.request(
            "POST", "/api/backups/\(info.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8))
        let exited = server.process.wait()
        #expect(exited.status == 75)
        #expect(!exited.signalled)
        // The supervisor's part: start it again on the same port.
        let again = try LiveServer(dataDirectory: directory.path, port: server.port)
        try await again.waitUntilReady()
        let status = try await waitForStatus(again) { _ in true }
        #expect(status.last_restore?.outcome == .succeeded)
        #expect(status.last_restore?.safetyBackupID == nil)
        #expect(try TestDB.int(directory.dataDirectory.database.path, "SELECT COUNT(*) FROM ledger") == 0)
        #expect(again.terminate().status == 0)
    }
}
