import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Backups by scope: the run builds the scope's sources, the record and import read the scope")
struct ScopeBackupTests {
    /// A data directory with a 1 MB database, and outside it an `uploads` tree configured as a
    /// directory.
    struct Fixture {
        let data = TemporaryDirectory("scope-run-data")
        let app = TemporaryDirectory("scope-run-app")
        let service: BackupService
        var uploads: URL { app.url.appendingPathComponent("uploads") }

        init(defaultScope: BackupScope? = nil, clock: (@Sendable () -> Date)? = nil) throws {
            try SampleDatabase.create(at: data.dataDirectory.database, megabytes: 1)
            let uploads = app.url.appendingPathComponent("uploads")
            try DirectoryTree.file("a.txt", in: uploads, bytes: Data("alpha\n".utf8))
            try DirectoryTree.file("nested/deeper/b.bin", in: uploads, bytes: Data(repeating: 7, count: 300_000))
            service =
                if let clock {
                    try BackupService(dataDirectory: data.dataDirectory, clock: clock)
                } else {
                    try BackupService(dataDirectory: data.dataDirectory)
                }
            try service.saveSettings(
                BackupSettings(directories: [uploads.path], defaultScope: defaultScope))
        }

        /// The names `tar -tzf` lists in a backup's bundle.
        func listing(_ info: BackupInfo) throws -> [String] {
            let bundle = data.url.appendingPathComponent("backups/\(info.filename)")
            let result = try ChildProcess(executablePath: "/usr/bin/tar").run(["-tzf", bundle.path])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map { String($0).trimmingSuffix("/") }
        }
    }

    @Test("files: the directories alone, no database.sqlite; the record says files and verifies")
    func filesScope() async throws {
        let fixture = try Fixture()
        let progress = ProgressLog()
        let info = try await fixture.service.createBackup(scope: .files) { progress.add($0) }
        #expect(info.status == .completed && info.scope == .files)
        let names = try fixture.listing(info)
        #expect(!names.contains("database.sqlite"), "\(names)")
        #expect(names.contains("files/uploads/a.txt") && names.contains("files/uploads/nested/deeper/b.bin"))
        #expect(info.progress == nil)
        let record = try fixture.service.catalog.record(id: info.id)
        #expect(record.sourcePageCount == nil)
        #expect(record.totalBytes == 300_006 && record.doneBytes == record.totalBytes, "files counted once")
        #expect(progress.last?.doneBytes == progress.last?.totalBytes)
        let report = try await fixture.service.verify(id: info.id)
        #expect(report.isValid, "\(report.problems)")
        let stats = try fixture.service.stats()
        #expect(stats.scopes["files"]?.count == 1 && stats.scopes["files"]?.lastSuccessAt == record.completedAt)
        #expect(stats.scopes["database"]?.count == 0)
    }

    @Test("no scope asked with directories configured: full, the database and every directory")
    func automaticFull() async throws {
        let fixture = try Fixture()
        let info = try await fixture.service.createBackup()
        #expect(info.scope == .full)
        let names = try fixture.listing(info)
        #expect(names.contains("database.sqlite") && names.contains("files/uploads/a.txt"), "\(names)")
        let record = try fixture.service.catalog.record(id: info.id)
        let database = try #require(record.sourcePageCount)
        #expect(database > 0)
        // The database counted twice (snapshot, then bundle), the files once.
        let databaseBytes = (record.totalBytes - 300_006) / 2
        #expect(databaseBytes > 0 && record.totalBytes == 2 * databaseBytes + 300_006)
        #expect(try await fixture.service.verify(id: info.id).isValid)

        // database when asked: no files/ entries.
        let only = try await fixture.service.createBackup(scope: .database)
        #expect(only.scope == .database)
        #expect(try fixture.listing(only).allSatisfy { !$0.hasPrefix("files") })
        #expect(try fixture.service.catalog.page(BackupQuery(scope: .full)).items.map(\.id) == [info.id])
    }

    @Test("what the directories warn of reaches the record: source_warnings and the warnings code")
    func warningsOnRecord() async throws {
        let fixture = try Fixture(defaultScope: .files)
        #expect(mkfifo(fixture.uploads.appendingPathComponent("pipe").path, 0o644) == 0)
        let info = try await fixture.service.createBackup()
        #expect(info.scope == .files, "default_scope decides")
        #expect(info.sourceWarnings.count == 1 && info.sourceWarnings.first?.contains("files/uploads/pipe") == true)
        #expect(info.warnings == [BackupInfo.sourceWarningsCode])
        let stored = try fixture.service.catalog.record(id: info.id).info
        #expect(stored.sourceWarnings == info.sourceWarnings && stored.warnings == info.warnings)
    }

    @Test("a configured directory that is gone fails the backup before anything is recorded, naming it")
    func directoryGone() async throws {
        let fixture = try Fixture()
        try FileManager.default.removeItem(at: fixture.uploads)
        await #expect(
            throws: BackupError.sourceUnavailable(
                path: fixture.uploads.path, reason: "the configured directory does not exist")
        ) { try await fixture.service.createBackup(scope: .files) }
        #expect(try fixture.service.catalog.allRecords().isEmpty)
        #expect(fixture.data.backupFiles().isEmpty)
    }

    @Test("retention.per_scope with real backups: keep_last 1 keeps the newest of each scope; off, the newest alone")
    func retentionPerScope() async throws {
        let fixture = try Fixture()
        var settings = try fixture.service.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true, perScope: true)
        try fixture.service.saveSettings(settings)
        var made: [BackupInfo] = []
        for scope in [BackupScope.database, .files, .full, .database, .files, .full] {
            made.append(try await fixture.service.createBackup(scope: scope))
        }
        #expect(Set(try fixture.service.catalog.allRecords().map(\.id)) == Set(made.suffix(3).map(\.id)))
        #expect(fixture.data.backupFiles().count == 6, "three bundles and their sidecars")

        settings.retention.perScope = false
        let preview = try fixture.service.previewSettings(settings)
        #expect(Set(preview.deleted.map(\.id)) == Set(made[3...4].map(\.id)), "all scopes together: the newest alone")
    }

    @Test("automatic backups use default_scope")
    func automaticBackupsUseDefaultScope() async throws {
        let clock = ManualClock()
        let fixture = try Fixture(defaultScope: .files, clock: { clock.now() })
        var settings = try fixture.service.settings()
        settings.enabled = true
        settings.intervalHours = 1
        try fixture.service.saveSettings(settings)
        let runner = JobRunner(service: fixture.service)
        let task = Task { await Scheduler(runner: runner, clock: clock).run() }
        defer { task.cancel() }
        await clock.waitForSleepers()
        clock.advance(by: 3600)
        var automatic: [BackupInfo] = []
        for _ in 0..<5000 {
            automatic = try fixture.service.catalog.page(BackupQuery(type: .auto)).items
            if automatic.first?.status == .completed, await runner.currentJob == nil { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(automatic.count == 1 && automatic.first?.status == .completed, "\(automatic)")
        #expect(automatic.first?.scope == .files)
    }

    @Test(
        "a record that does not know its bundle (a remote-only one from the bucket's listing) learns its scope by a verify"
    )
    func verifyLearnsScope() async throws {
        let fixture = try Fixture()
        #expect(mkfifo(fixture.uploads.appendingPathComponent("pipe").path, 0o644) == 0)
        let made = try await fixture.service.createBackup(scope: .files)
        try fixture.service.catalog.write { db in
            try db.execute(
                sql: "UPDATE backup SET scope = 'database', source_warnings = '[]' WHERE id = ?", arguments: [made.id])
        }
        #expect(try fixture.service.catalog.record(id: made.id).scope == .database)
        try await fixture.service.verify(id: made.id)
        let learned = try fixture.service.catalog.record(id: made.id)
        #expect(
            learned.scope == .files && learned.sourceWarnings == made.sourceWarnings && !made.sourceWarnings.isEmpty)
    }

    @Test("an imported bundle's scope is read from its manifest; a database one stays database")
    func importReadsScope() async throws {
        let fixture = try Fixture()
        let files = try await fixture.service.createBackup(scope: .files)
        let database = try await fixture.service.createBackup(scope: .database)
        let target = TemporaryDirectory("scope-import-target")
        try target.dataDirectory.prepare()
        let service = try BackupService(dataDirectory: target.dataDirectory)
        for made in [files, database] {
            let bundle = fixture.data.url.appendingPathComponent("backups/\(made.filename)")
            let imported = try service.importBundle(from: bundle)
            #expect(imported.id == made.id && imported.type == .imported && imported.scope == made.scope)
        }
    }
}

/// The progress reports a backup made, in order.
final class ProgressLog: Sendable {
    private let reports = Mutex<[BackupProgress]>([])
    func add(_ job: JobProgress) {
        reports.withLock { $0.append(BackupProgress(doneBytes: job.doneBytes, totalBytes: job.totalBytes)) }
    }
    var last: BackupProgress? { reports.withLock { $0.last } }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
