import BackupCore
import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "backup restore under one write lock: no acknowledged write lost, a bounded wait, the journal mode kept",
    .serialized)
struct RestoreLockCLITests {
    let backup = try! ChildProcess(product: "backup")

    /// The `pair` values of the ledger in the database at `path`.
    static func pairs(_ path: String) throws -> Set<Int> {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return Set(try queue.read { try Int.fetchAll($0, sql: "SELECT DISTINCT pair FROM ledger") })
    }

    /// The database inside a bundle, extracted with the system's `tar` into `scratch`.
    static func database(in bundle: URL, scratch: TemporaryDirectory) throws -> String {
        let result = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xzf", bundle.path, "-C", scratch.path])
        #expect(result.status == 0, "\(result.stderr)")
        return scratch.url.appendingPathComponent("database.sqlite").path
    }

    /// Bytes 18 and 19 of a database file's header: 2 and 2 in WAL mode, 1 and 1 otherwise.
    static func journalBytes(_ url: URL) throws -> [UInt8] {
        let header = try FileHandle(forReadingFrom: url).read(upToCount: 20) ?? Data()
        return Array(header.suffix(2))
    }

    @Test(
        "a writer committing throughout a restore: every acknowledged commit is in the safety backup or after it",
        arguments: [true, false])
    func concurrentWriterLosesNothing(wal: Bool) throws {
        let directory = TemporaryDirectory("cli-restore-writer")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        if !wal { try TestDB.setJournalMode(directory.dataDirectory.database.path, "DELETE") }
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))

        // An application writer: BEGIN IMMEDIATE, waiting for the lock like a real one.
        let writer = ContinuousWriter(path: directory.dataDirectory.database.path, busyTimeout: 60)
        writer.start()
        #expect(writer.waitForCommits(moreThan: 50))
        let result = try backup.run(["restore", info.id, "--yes", "--json", "--data-dir", directory.path])
        let afterRestore = writer.commits
        #expect(writer.waitForCommits(moreThan: afterRestore + 50))
        writer.stop()
        #expect(result.status == 0, "\(result.stderr)\(result.stdout)")
        #expect(writer.otherErrors.isEmpty, "\(writer.otherErrors)")

        let outcome = try JSONDecoder.backupManager().decode(RestoreOutcome.self, from: Data(result.stdout.utf8))
        #expect(outcome.outcome == .succeeded)
        let waited = try #require(outcome.writersWaitedMs)
        #expect(waited >= 0)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        defer { catalog.close() }
        let safety = try catalog.record(id: try #require(outcome.safetyBackupID))
        let scratch = TemporaryDirectory("cli-restore-writer-safety")
        let safetyPairs = try Self.pairs(
            try Self.database(
                in: directory.url.appendingPathComponent("backups/\(safety.filename)"), scratch: scratch))
        let finalPairs = try Self.pairs(directory.dataDirectory.database.path)
        let acknowledged = writer.acknowledgedPairs
        let lost = acknowledged.filter { !safetyPairs.contains($0) && !finalPairs.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged commits are in neither copy")
        // The writer did commit on both sides of the replacement.
        #expect(acknowledged.contains { safetyPairs.contains($0) })
        #expect(acknowledged.contains { finalPairs.contains($0) })
        #expect(try TestDB.invariantsHold(directory.dataDirectory.database.path))
        Intensity.figure(
            "restore under one lock (\(wal ? "WAL" : "rollback journal")): \(acknowledged.count) acknowledged "
                + "commits around a restore of 4 MB, \(lost.count) lost; writers waited \(waited) ms")
    }

    @Test("an application transaction held open: the restore gives up after restore_lock_timeout_seconds, exit 4")
    func heldTransactionTimesOut() throws {
        let directory = TemporaryDirectory("cli-restore-locked")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        try TestDB.execute(
            directory.dataDirectory.database.path, "INSERT INTO ledger(pair, amount) VALUES (5, 1), (5, -1)")
        let set = try backup.run(["settings", "set", "restore_lock_timeout_seconds=1", "--data-dir", directory.path])
        #expect(set.status == 0, "\(set.stderr)")
        let before = try TestDB.fingerprint(directory.dataDirectory.database.path)

        let application = try HeldTransaction(path: directory.dataDirectory.database.path)
        let started = Date()
        let restore = try backup.start(["restore", info.id, "--yes", "--data-dir", directory.path])
        // Bounded: a restore that waits for the lock forever must fail this test, not hang it.
        let ended = waitUntil(timeout: 20) { !restore.process.isRunning }
        let took = Date().timeIntervalSince(started)
        if !ended { restore.signal(SIGKILL) }
        let result = restore.wait()
        try application.release()

        #expect(ended, "the restore still waited after \(took) s with a 1 s lock timeout")
        #expect(result.status == 4, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("locked"))
        #expect(try TestDB.fingerprint(directory.dataDirectory.database.path) == before)
        let outcome = try #require(directory.dataDirectory.lastRestore())
        #expect(outcome.outcome == .failed)
        #expect(outcome.error?.contains("restore_lock_timeout_seconds") == true)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test(
        "the live database keeps its journal mode: a WAL bundle into a rollback-journal database and the reverse",
        arguments: [(false, true), (true, false)])
    func journalModeKept(liveWAL: Bool, bundleWAL: Bool) throws {
        let source = TemporaryDirectory("cli-restore-journal-source")
        try SampleDatabase.create(at: source.dataDirectory.database, megabytes: 1)
        if !bundleWAL { try TestDB.setJournalMode(source.dataDirectory.database.path, "DELETE") }
        let made = try backup.run(["create", "--json", "--data-dir", source.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(made.stdout.utf8))
        let bundle = source.url.appendingPathComponent("backups/\(info.filename)")

        let directory = TemporaryDirectory("cli-restore-journal")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        if !liveWAL { try TestDB.setJournalMode(directory.dataDirectory.database.path, "DELETE") }
        let live = directory.dataDirectory.database
        #expect(try Self.journalBytes(live) == (liveWAL ? [2, 2] : [1, 1]))

        let result = try backup.run(["restore", "--file", bundle.path, "--yes", "--data-dir", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.journalBytes(live) == (liveWAL ? [2, 2] : [1, 1]))
        let mode = try TestDB.strings(live.path, "PRAGMA journal_mode")
        #expect(mode == [liveWAL ? "wal" : "delete"])
        #expect(try TestDB.strings(live.path, "PRAGMA integrity_check") == ["ok"])
    }
}
