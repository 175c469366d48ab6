import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("PostgreSQL restores through pg_restore, against a real server", .serialized)
struct PostgresRestoreTests {
    @Test("restore after deleting rows brings them back; a pre-restore backup of the deleted state is listed")
    func restoreBringsRowsBack() async throws {
        let fixture = try await PostgresFixture.start(pairs: 500)
        let service = fixture.service
        let backup = try await service.createBackup()
        try fixture.server.psql("delete from ledger where pair <= 100")
        #expect(try fixture.ledger().rows == 800)

        let prepared = try service.prepareRestore(.backup(id: backup.id))
        #expect(prepared.restoresDatabase && prepared.manifest.databaseKind == .postgresql)
        let outcome = try await service.runRestore(prepared)
        #expect(outcome.outcome == .succeeded && outcome.writersWaitedMs == nil)
        #expect(try fixture.ledger() == (rows: 1000, sum: 0))

        let safety = try service.catalog.record(id: try #require(outcome.safetyBackupID))
        #expect(safety.type == .preRestore && safety.status == .completed && safety.scope == .database)
        #expect(service.dataDirectory.lastRestore() == outcome)
        // The safety backup holds the state the restore replaced.
        try fixture.server.createDatabase("safety")
        let work = TemporaryDirectory("pg-safety")
        try fixture.server.pgRestore(try fixture.extractDump(safety.info, into: work.url), into: "safety")
        #expect(try fixture.ledger(in: "safety").rows == 800)
        #expect(fixture.data.temporaryFiles().isEmpty)
    }

    @Test("a full backup holds the dump and the directories; a full restore puts both back")
    func fullScope() async throws {
        let fixture = try await PostgresFixture.start(pairs: 100)
        let app = TemporaryDirectory("pg-app")
        let uploads = app.url.appendingPathComponent("uploads")
        try DirectoryTree.file("a.txt", in: uploads, bytes: Data("alpha\n".utf8))
        let service = fixture.service
        try service.saveSettings(BackupSettings(directories: [uploads.path]))
        let backup = try await service.createBackup(scope: .full)
        #expect(backup.scope == .full)
        let manifest = try #require(
            try BundleVerifier().verify(
                bundle: fixture.bundle(backup), expectedSHA256: nil, expectedID: nil,
                temporary: service.dataDirectory.temporary
            ).manifest)
        #expect(manifest.sources.map(\.kind) == [.postgresql, .directory])

        try fixture.server.psql("delete from ledger")
        try Data("changed\n".utf8).write(to: uploads.appendingPathComponent("a.txt"))
        let prepared = try service.prepareRestore(.backup(id: backup.id))
        #expect(
            prepared.restoresDatabase && prepared.directories.map(\.path) == [uploads.path] && prepared.scope == .full)
        let outcome = try await service.runRestore(prepared)
        #expect(outcome.outcome == .succeeded)
        #expect(try fixture.ledger() == (rows: 200, sum: 0))
        #expect(try String(contentsOf: uploads.appendingPathComponent("a.txt"), encoding: .utf8) == "alpha\n")
        let safety = try service.catalog.record(id: try #require(outcome.safetyBackupID))
        #expect(safety.scope == .full && safety.status == .completed)
    }

    @Test("a restore that fails in pg_restore rolls back: the old data stays and a failed outcome is recorded")
    func failingRestoreLeavesOldData() async throws {
        let fixture = try await PostgresFixture.start(pairs: 200)
        let service = fixture.service
        let backup = try await service.createBackup()
        try fixture.server.psql("delete from ledger where pair <= 50")
        // A view in another schema depends on the table, so the dump's DROP TABLE fails.
        try fixture.server.psql("create schema reports")
        try fixture.server.psql("create view reports.totals as select sum(amount) as total from public.ledger")

        let prepared = try service.prepareRestore(.backup(id: backup.id))
        let error = await #expect(throws: BackupError.self) { try await service.runRestore(prepared) }
        guard case .toolFailed(let tool, let status, let stderr) = error else {
            Issue.record("expected toolFailed, got \(String(describing: error))")
            return
        }
        #expect(tool == "pg_restore" && status != 0)
        #expect(stderr.contains("cannot drop table public.ledger because other objects depend on it"), "\(stderr)")
        #expect(try fixture.ledger() == (rows: 300, sum: 0), "rolled back: the rows deleted since stay deleted")
        #expect(try fixture.server.psql("select count(*) from reports.totals") == "1")
        let outcome = try #require(service.dataDirectory.lastRestore())
        #expect(outcome.outcome == .failed && outcome.error == error?.message && outcome.safetyBackupID != nil)
        #expect(!(outcome.error ?? "").contains(fixture.server.password))
    }

    @Test("targetURL restores into another database, takes no safety backup and leaves the live one untouched")
    func restoreIntoAnotherDatabase() async throws {
        let fixture = try await PostgresFixture.start(pairs: 300)
        let service = fixture.service
        let backup = try await service.createBackup()
        try fixture.server.psql("delete from ledger where pair <= 100")
        try fixture.server.createDatabase("rehearsal")

        let options = RestoreOptions(targetURL: fixture.server.url(database: "rehearsal"))
        let outcome = try await service.runRestore(try service.prepareRestore(.backup(id: backup.id), options: options))
        #expect(outcome.outcome == .succeeded && outcome.safetyBackupID == nil)
        #expect(try fixture.ledger(in: "rehearsal") == (rows: 600, sum: 0))
        #expect(try fixture.ledger() == (rows: 400, sum: 0))
        #expect(try service.catalog.page(BackupQuery()).items.map(\.id) == [backup.id])

        // Refused where it means nothing: only=files, and a SQLite location.
        #expect(throws: BackupError.self) {
            try service.prepareRestore(
                .backup(id: backup.id), options: RestoreOptions(only: .files, targetURL: options.targetURL))
        }
        let sqlite = try BackupService(dataDirectory: DataDirectory(root: fixture.data.path))
        #expect(
            throws: BackupError.invalidInput(fields: [
                "target_url": "only a PostgreSQL database can be restored into another database"
            ])
        ) { try sqlite.prepareRestore(.backup(id: backup.id), options: options) }
    }

    @Test("a PostgreSQL dump into a SQLite location and a SQLite bundle into PostgreSQL are refused before anything")
    func kindMismatch() async throws {
        let fixture = try await PostgresFixture.start(pairs: 50)
        let pgBackup = try await fixture.service.createBackup()
        let sqlite = try BackupService(dataDirectory: DataDirectory(root: fixture.data.path))
        #expect(throws: BackupError.sourceKindMismatch(bundle: .postgresql, live: .sqlite)) {
            try sqlite.prepareRestore(.backup(id: pgBackup.id))
        }
        #expect(!FileManager.default.fileExists(atPath: sqlite.dataDirectory.database.path))

        try SampleDatabase.create(at: sqlite.dataDirectory.database, megabytes: 1)
        let before = try Data(contentsOf: sqlite.dataDirectory.database)
        let sqliteBackup = try await sqlite.createBackup()
        #expect(throws: BackupError.sourceKindMismatch(bundle: .sqlite, live: .postgresql)) {
            try fixture.service.prepareRestore(.backup(id: sqliteBackup.id))
        }
        #expect(try fixture.ledger() == (rows: 100, sum: 0))
        #expect(try Data(contentsOf: sqlite.dataDirectory.database) == before)
        #expect(fixture.data.temporaryFiles().isEmpty)
        // The refusals released the job lock.
        #expect(try await fixture.service.createBackup().status == .completed)
        #expect(
            BackupError.sourceKindMismatch(bundle: .sqlite, live: .postgresql).message
                == "the backup holds a SQLite database but the live database is PostgreSQL; nothing was restored")
    }
}
