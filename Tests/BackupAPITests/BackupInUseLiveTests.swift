import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("A backup that a job uses is not deleted, across processes", .serialized)
struct BackupInUseLiveTests {
    let backup = try! ChildProcess(product: "backup")

    @Test(
        "the CLI's delete of the backup the server restores: exit 4 backup_in_use, bundle kept; deleted after the job")
    func cliDeleteDuringServerRestore() async throws {
        let (directory, server, info) = try await RestoreLiveTests.prepared(
            "live-in-use-restore", arguments: ["--restart-mode", "exit"])
        defer { _ = server.terminate() }
        // The application holds the live database's write lock: the restore waits for it, in use.
        let application = try HeldTransaction(path: directory.dataDirectory.database.path)
        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        _ = try await RestoreLockLiveTests().waitForStatus(server) { $0.current_job?.phase == "waiting_for_lock" }

        let refused = try backup.run(["delete", info.id, "--yes", "--json", "--data-dir", directory.path])
        #expect(refused.status == 4, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stdout.contains("\"backup_in_use\""), "\(refused.stdout)")
        #expect(directory.backupFiles().contains(info.filename))

        try application.release()
        let stopped = server.process.wait()  // restored, then exits 75 for its supervisor
        #expect(stopped.status == 75, "\(stopped.stderr)")
        let deleted = try backup.run(["delete", info.id, "--yes", "--data-dir", directory.path])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(!directory.backupFiles().contains(info.filename))
    }

    @Test(
        "the server's DELETE of a backup another process verifies is 409 backup_in_use; a dead process's use does not count"
    )
    func serverDeleteDuringOtherProcessVerification() async throws {
        let directory = TemporaryDirectory("live-in-use-verify")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let server = try LiveServer(dataDirectory: directory.path)
        defer { _ = server.terminate() }
        try await server.waitUntilReady()
        let verified = try await server.backupAndWait()
        let abandoned = try await server.backupAndWait()

        // A use recorded by a process that died (no job lock held): it blocks nothing.
        try TestDB.execute(
            directory.dataDirectory.catalog.path,
            "INSERT INTO backup_use(backup_id, job, pid, since) VALUES ('\(abandoned.id)', 'verify', 999999, "
                + "'2026-01-01 00:00:00.000')")
        let (_, stale) = try await server.request("DELETE", "/api/backups/\(abandoned.id)")
        #expect(stale.statusCode == 204)

        // Another process (this test) verifies, held at its first progress report.
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let gate = PauseGate()
        let verification = Task.detached {
            try await service.verify(id: verified.id) { _ in gate.pauseOnFirstCall() }
        }
        await gate.waitUntilPaused()
        let (body, refused) = try await server.request("DELETE", "/api/backups/\(verified.id)")
        #expect(refused.statusCode == 409)
        #expect(String(decoding: body, as: UTF8.self).contains("\"backup_in_use\""))
        let cli = try backup.run(["delete", verified.id, "--yes", "--data-dir", directory.path])
        #expect(cli.status == 4, "\(cli.stderr)")
        gate.release()
        _ = try await verification.value

        let (_, deleted) = try await server.request("DELETE", "/api/backups/\(verified.id)")
        #expect(deleted.statusCode == 204)
        #expect(directory.backupFiles().isEmpty)
    }
}
