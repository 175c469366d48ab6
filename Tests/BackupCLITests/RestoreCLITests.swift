import BackupCore
import Foundation
import GRDB
import TestSupport
import Testing

@Suite("backup restore: the maintenance path, as a real process", .serialized)
struct RestoreCLITests {
    let backup = try! ChildProcess(product: "backup")

    /// A data directory with a sample database and one backup of it; then the database changes.
    func backedUpThenChanged(_ label: String) throws -> (TemporaryDirectory, BackupInfo, Int) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        try TestDB.execute(
            directory.dataDirectory.database.path, "INSERT INTO ledger(pair, amount) VALUES (1, 5), (1, -5)")
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        try TestDB.execute(
            directory.dataDirectory.database.path,
            "INSERT INTO ledger(pair, amount) VALUES (2, 7), (2, -7), (3, 1), (3, -1); DELETE FROM account WHERE id > 50"
        )
        return (directory, info, 2)
    }

    @Test("restores while the server is stopped: content equals the backup's, a safety backup exists, outcome recorded")
    func restoreSucceeds() throws {
        let (directory, info, rowsAtBackup) = try backedUpThenChanged("cli-restore")
        let path = directory.dataDirectory.database.path
        // Another connection holds the database open across the restore.
        let reader = try DatabaseQueue(path: path)
        #expect(try reader.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM ledger") } == 6)

        let result = try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("safety backup:"))

        #expect(try reader.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM ledger") } == rowsAtBackup)
        #expect(try reader.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM account") } == 100)
        #expect(try reader.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let safety = try catalog.page(BackupQuery(type: .preRestore)).items
        #expect(safety.count == 1)
        #expect(safety.first?.status == .completed)
        let outcome = try #require(directory.dataDirectory.lastRestore())
        #expect(outcome.outcome == .succeeded)
        #expect(outcome.backupID == info.id)
        #expect(outcome.safetyBackupID == safety.first?.id)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("--no-safety-backup skips the pre-restore backup; --file restores from a bundle file")
    func restoreFromFileWithoutSafety() throws {
        let (directory, info, rowsAtBackup) = try backedUpThenChanged("cli-restore-file")
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        let copy = directory.url.appendingPathComponent("elsewhere.tar.gz")
        try FileManager.default.copyItem(at: bundle, to: copy)
        let result = try backup.run([
            "restore", "--file", copy.path, "--yes", "--no-safety-backup", "--data-dir", directory.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try TestDB.int(directory.dataDirectory.database.path, "SELECT COUNT(*) FROM ledger") == rowsAtBackup)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.page(BackupQuery(type: .preRestore)).items.isEmpty)
    }

    @Test("refuses without confirmation when there is no terminal, and leaves the database as it was")
    func refusesWithoutConfirmation() throws {
        let (directory, info, _) = try backedUpThenChanged("cli-restore-confirm")
        let before = try Data(contentsOf: directory.dataDirectory.database)
        let result = try backup.run(["restore", info.id, "--data-dir", directory.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--yes"))
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
    }

    @Test("a bundle with one flipped byte is refused with exit 3 and the database's bytes are unchanged")
    func corruptBundleRefused() throws {
        let (directory, info, _) = try backedUpThenChanged("cli-restore-corrupt")
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        var bytes = try Data(contentsOf: bundle)
        bytes[bytes.count / 2] ^= 0x04
        try bytes.write(to: bundle)
        let before = try Data(contentsOf: directory.dataDirectory.database)
        let result = try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path])
        #expect(result.status == 3)
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.page(BackupQuery(type: .preRestore)).items.isEmpty)
    }

    @Test("exits 5 while a backup-api serves the data directory")
    func refusedWhileServerRuns() async throws {
        let (directory, info, _) = try backedUpThenChanged("cli-restore-server")
        let before = try Data(contentsOf: directory.dataDirectory.database)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        let result = try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path])
        #expect(result.status == 5)
        #expect(result.stderr.contains("backup-api server is running"))
        #expect(server.terminate().status == 0)
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
        #expect(try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path]).status == 0)
    }
}
