import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("PostgreSQL backups through pg_dump, against a real server", .serialized)
struct PostgresBackupTests {
    @Test(
        "a backup beside a writer is a consistent snapshot: pg_restore of its dump sums to zero; no password in argv, catalog or manifest"
    )
    func consistentSnapshot() async throws {
        let fixture = try await PostgresFixture.start(pairs: 20000)
        let writer = try fixture.startWriter()
        #expect(try waitUntil { try fixture.writerRows() > 0 })
        let before = try fixture.writerRows()
        let scan = CommandLineScan()
        let phases = Mutex<[JobProgress.Phase]>([])
        let info = try await fixture.service.createBackup { progress in
            phases.withLock { if $0.last != progress.phase { $0.append(progress.phase) } }
        }
        let seen = scan.finish()
        let during = try fixture.writerRows()
        let stopped = try fixture.stopWriter(writer)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(info.status == .completed && info.scope == .database)
        #expect(phases.withLock { $0 } == [.snapshot, .compress])

        // The real pg_restore reads the dump into an empty database: a consistent ledger, with
        // the seed and some of the writer's pairs.
        let work = TemporaryDirectory("pg-oracle")
        let dump = try fixture.extractDump(info, into: work.url)
        try fixture.server.createDatabase("oracle")
        try fixture.server.pgRestore(dump, into: "oracle")
        let restored = try fixture.ledger(in: "oracle")
        #expect(restored.sum == 0, "a dump taken mid-transaction would not sum to zero")
        // The writer's pairs committed before the backup started are in the dump; it went on
        // committing while the dump ran.
        #expect(restored.rows >= 40000 + before && restored.rows % 2 == 0)
        #expect(during > before)

        // pg_dump ran (the scan saw it) and no process line ever held the password.
        let password = fixture.server.password
        #expect(seen.contains { $0.contains("pg_dump") && $0.contains("--dbname=postgresql://app@127.0.0.1") })
        // The password as the URL carries it, percent-encoded.
        let encoded = String(fixture.server.urlText().dropFirst("postgresql://app:".count).prefix { $0 != "@" })
        #expect(encoded.contains("%40") && encoded.contains("%3A"))
        #expect(!seen.contains { $0.contains(password) || $0.contains(encoded) })

        // The manifest names the source with the redacted URL and the versions.
        let manifestText = try String(contentsOf: work.url.appendingPathComponent("manifest.json"), encoding: .utf8)
        let manifest = try Manifest.decode(Array(manifestText.utf8))
        let figures = try #require(manifest.postgresql)
        #expect(manifest.sources.map(\.kind) == [.postgresql] && manifest.sources[0].name == "database")
        #expect(figures.url == "postgresql://app@127.0.0.1:\(fixture.server.port)/app" && figures.database == "app")
        #expect(figures.serverVersion.hasPrefix(try fixture.server.psql("show server_version_num").prefix(2)))
        #expect(figures.pgDumpVersion.first?.isNumber == true)
        #expect(manifestText.contains("\"server_version\"") && manifestText.contains("\"pg_dump_version\""))
        #expect(manifest.entries.map(\.path) == ["database.pgdump"])

        // Nothing of the password in the catalog's bytes or the bundle's manifest; no spool left.
        for file in ["catalog.sqlite", "catalog.sqlite-wal"] {
            let bytes = FileManager.default.contents(
                atPath: fixture.data.url.appendingPathComponent("backups/\(file)").path)
            #expect(bytes.map { !String(decoding: $0, as: UTF8.self).contains(password) } ?? true, "\(file)")
        }
        #expect(!manifestText.contains(password) && !manifestText.contains(encoded))
        #expect(fixture.data.temporaryFiles().isEmpty)

        // Verification passes: hashes, then pg_restore --list.
        let report = try await fixture.service.verify(id: info.id)
        #expect(report.isValid, "\(report.problems)")
    }

    @Test("a dump whose entry is not a dump fails verification by pg_restore --list; without pg_restore it throws")
    func verifyRunsPgRestoreList() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        let info = try await fixture.service.createBackup()
        let temporary = fixture.data.dataDirectory.temporary
        // A bundle whose dump entry is garbage, with hashes that match it: only pg_restore can tell.
        let garbage = temporary.appendingPathComponent("garbage.pgdump")
        try Data(repeating: 0x41, count: 10_000).write(to: garbage)
        let figures = PostgresFigures(
            url: "postgresql://app@h/app", database: "app", serverVersion: "15", pgDumpVersion: "15")
        let source = PostgresSource(
            url: fixture.server.url(), environment: .process, dump: (garbage, figures))
        let store = LocalStore(dataDirectory: fixture.data.dataDirectory)
        let template = Manifest(id: BackupID.make(), type: .manual, createdAt: Date())
        let name = "backup-garbage.tar.gz"
        let written = try BundleWriter(compressionLevel: 1).write(
            sources: [source], manifest: template, filename: name, temporary: temporary, store: store
        ) { _ in }
        let bad = try BundleVerifier().verify(
            bundle: fixture.data.url.appendingPathComponent("backups/\(written.key)"), expectedSHA256: nil,
            expectedID: nil, temporary: temporary)
        #expect(bad.problems.count == 1)
        #expect(
            bad.problems.first?.hasPrefix("pg_restore --list cannot read database.pgdump") == true, "\(bad.problems)")

        // The good bundle verifies; with no pg_restore on PATH, verification throws instead of
        // calling the bundle corrupt.
        let good = fixture.bundle(info)
        #expect(
            try BundleVerifier().verify(bundle: good, expectedSHA256: nil, expectedID: nil, temporary: temporary)
                .isValid)
        let empty = TemporaryDirectory("pg-empty-path")
        #expect(throws: BackupError.toolMissing(tool: "pg_restore", package: "postgresql-client")) {
            try BundleVerifier(postgres: PostgresEnvironment(["PATH": empty.path])).verify(
                bundle: good, expectedSHA256: nil, expectedID: nil, temporary: temporary)
        }
        #expect(fixture.data.temporaryFiles().sorted() == ["garbage.pgdump"])
    }

    @Test("a wrong password fails the record as source_unavailable, naming the redacted URL and never the password")
    func wrongPassword() async throws {
        let server = try await PostgresServer.start()
        let data = TemporaryDirectory("pg-wrong")
        let wrong = "wrong:secret@\(UUID().uuidString.prefix(6))"
        let text =
            "postgresql://app:\(wrong.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)@127.0.0.1:\(server.port)/app"
        let service = try BackupService(dataDirectory: DataDirectory(root: data.path, parsingDatabase: text))
        let error = await #expect(throws: BackupError.self) { try await service.createBackup() }
        guard case .sourceUnavailable(let path, let reason) = error else {
            Issue.record("expected sourceUnavailable, got \(String(describing: error))")
            return
        }
        #expect(path == "postgresql://app@127.0.0.1:\(server.port)/app")
        #expect(reason.contains("password authentication failed"), "\(reason)")
        let record = try #require(try service.catalog.page(BackupQuery()).items.first)
        #expect(record.status == .failed && record.error == error?.message)
        for text in [error?.message ?? "", record.error ?? ""] {
            #expect(!text.contains(wrong) && !text.contains("secret"), "\(text)")
        }
        #expect(data.backupFiles().isEmpty && data.temporaryFiles().isEmpty)
    }

    @Test("without pg_dump on PATH the backup fails as tool_missing naming postgresql-client; nothing is left")
    func pgDumpMissing() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        // psql alone on PATH: the server is asked, then pg_dump is looked for.
        let tools = TemporaryDirectory("pg-tools")
        try FileManager.default.createSymbolicLink(
            atPath: tools.url.appendingPathComponent("psql").path, withDestinationPath: PostgresServer.client("psql"))
        var service = fixture.service
        service.postgresEnvironment = PostgresEnvironment(["PATH": tools.path])
        await #expect(throws: BackupError.toolMissing(tool: "pg_dump", package: "postgresql-client")) {
            try await service.createBackup()
        }
        let record = try #require(try service.catalog.page(BackupQuery()).items.first)
        #expect(record.status == .failed)
        #expect(record.error == "pg_dump was not found on PATH: install the Debian package postgresql-client")
        #expect(fixture.data.backupFiles().isEmpty && fixture.data.temporaryFiles().isEmpty)
    }

    @Test(
        "an unrecorded PostgreSQL bundle on a machine without pg_restore is left in place, neither adopted nor quarantined, and jobs still start"
    )
    func reconcileWithoutPgRestore() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        let info = try await fixture.service.createBackup()
        try fixture.service.catalog.deleteRecord(id: info.id)
        var service = fixture.service
        service.postgresEnvironment = PostgresEnvironment(["PATH": TemporaryDirectory("pg-no-tools").path])
        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.adopted.isEmpty && report.quarantined.isEmpty, "\(report)")
        #expect(FileManager.default.fileExists(atPath: fixture.bundle(info).path))
        // With pg_restore back on PATH the next job adopts it.
        let (again, adopted) = try fixture.service.beginJobReporting()
        again.release()
        #expect(adopted.adopted == [info.id])
    }

    @Test("pg_dump's own failure is the record's error: tool_failed with its exit status and stderr; nothing is left")
    func pgDumpFails() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        // A table app may not read: pg_dump, logged in as app, fails on it.
        try fixture.server.psql("create table payroll (amount int)", role: nil)
        let error = await #expect(throws: BackupError.self) { try await fixture.service.createBackup() }
        guard case .toolFailed(let tool, let status, let stderr) = error else {
            Issue.record("expected toolFailed, got \(String(describing: error))")
            return
        }
        #expect(tool == "pg_dump" && status == 1)
        #expect(stderr.contains("permission denied for table payroll"), "\(stderr)")
        let record = try #require(try fixture.service.catalog.page(BackupQuery()).items.first)
        #expect(record.status == .failed && record.error == error?.message)
        #expect(record.error?.hasPrefix("pg_dump failed (exit status 1): ") == true)
        #expect(fixture.data.backupFiles().isEmpty && fixture.data.temporaryFiles().isEmpty)
    }

    @Test("the space check uses pg_database_size: too little room fails the record before pg_dump runs")
    func insufficientSpace() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        let size = try #require(Int64(try fixture.server.psql("select pg_database_size('app')")))
        let directory = fixture.service.dataDirectory
        // Room for the margin alone: enough for prepareBackup (which cannot ask the server), not for the dump.
        let free = BackupService.spaceMargin + 1024 * 1024
        let service = BackupService(
            dataDirectory: directory, catalog: fixture.service.catalog, clock: { Date() },
            snapshotEngine: SnapshotEngine(), freeSpace: { _ in free })
        await #expect(
            throws: BackupError.insufficientSpace(needed: 2 * size + BackupService.spaceMargin, available: free)
        ) { try await service.createBackup() }
        let record = try #require(try service.catalog.page(BackupQuery()).items.first)
        #expect(record.status == .failed && record.error?.hasPrefix("not enough free space") == true)
        #expect(fixture.data.backupFiles().isEmpty && fixture.data.temporaryFiles().isEmpty)
    }

    @Test("cancelling during the dump kills pg_dump and leaves no spool, no bundle; the record says cancelled")
    func cancelDuringDump() async throws {
        let fixture = try await PostgresFixture.start(pairs: 10)
        // A transaction holding the ledger exclusively: pg_dump waits for its lock until cancelled.
        let holder = try ChildProcess(executablePath: PostgresServer.client("psql")).start([
            "-X", "-q", "-h", fixture.server.directory.path, "-p", "\(fixture.server.port)", "-U", "postgres", "-d",
            "app", "-c", "begin; lock table ledger in access exclusive mode; select pg_sleep(120); commit;",
        ])
        #expect(
            try waitUntil {
                try fixture.server.psql(
                    "select count(*) from pg_locks where relation = 'ledger'::regclass and mode = 'AccessExclusiveLock' and granted",
                    role: nil) == "1"
            })
        let service = fixture.service
        let started = Mutex(false)
        let task = Task {
            try await service.createBackup { progress in
                guard progress.phase == .snapshot else { return }
                started.withLock { $0 = true }
            }
        }
        #expect(await eventually { started.withLock { $0 } })
        #expect(dumpProcesses(port: fixture.server.port).count == 1, "pg_dump runs, waiting for the lock")
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = await task.result
        // pg_dump ends on SIGTERM (its handler cancels the query on the server), not the SIGKILL after the grace.
        #expect(ContinuousClock.now - cancelled < PgTool.terminationGrace)
        #expect(throws: BackupError.cancelled) { try result.get() }
        #expect(dumpProcesses(port: fixture.server.port).isEmpty, "no pg_dump left")
        let record = try #require(try service.catalog.page(BackupQuery()).items.first)
        #expect(record.status == .cancelled)
        #expect(fixture.data.backupFiles().isEmpty && fixture.data.temporaryFiles().isEmpty)
        // The holding session ends (psql would otherwise wait out its pg_sleep).
        try fixture.server.psql(
            "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(120)%' and pid <> pg_backend_pid()",
            role: nil)
        _ = holder.wait()
    }

    /// The pids of `pg_dump` processes connecting to `port`.
    private func dumpProcesses(port: Int) -> [String] {
        CommandLineScan.commandLines().filter {
            $0.hasPrefix("/") && $0.contains("pg_dump ") && $0.contains(":\(port)/")
        }
    }
}
