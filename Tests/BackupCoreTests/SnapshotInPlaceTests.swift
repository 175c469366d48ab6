import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

/// When the live file already is the snapshot, it is read in place under the held read
/// transaction; when it is not, the snapshot is copied. Both must give the pinned state exactly.
@Suite("Snapshot read in place")
struct SnapshotInPlaceTests {
    @Test(
        "a checkpointed WAL database is read in place, and its file does not move past the snapshot while the application commits and checkpoints"
    )
    func readsInPlace() async throws {
        let directory = TemporaryDirectory("snapshot-in-place")
        let source = directory.url.appendingPathComponent("app.sqlite")
        let application = try SampleDatabase.create(at: source, megabytes: 4)
        try await application.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let pinnedState = try TestDB.fingerprint(source.path)
        let copy = directory.url.appendingPathComponent("copy.sqlite")

        let inPlace = try await SnapshotEngine().withSnapshot(
            source: source, scratch: directory.url.appendingPathComponent("scratch.sqlite")
        ) { (view) throws(BackupError) in
            do {
                // The application goes on writing and checkpointing while the snapshot is held…
                for pair in 1...50 {
                    try application.write { db in
                        try db.execute(
                            sql: "INSERT INTO ledger(pair, amount) VALUES (?, 5), (?, -5)", arguments: [pair, pair])
                    }
                }
                try application.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
                // …and the bytes read afterwards are still the pinned state.
                try Self.bytes(of: view).write(to: copy)
            } catch {
                throw .io(path: copy.path, reason: "\(error)")
            }
            return view.isLiveFile
        }

        #expect(inPlace)
        #expect(try TestDB.fingerprint(copy.path) == pinnedState)
        #expect(try TestDB.strings(copy.path, "PRAGMA integrity_check") == ["ok"])
        #expect(try TestDB.fingerprint(source.path) != pinnedState)
        try application.close()
    }

    @Test("with WAL frames not yet checkpointed into the file, the snapshot is a copy holding the latest commits")
    func copiesWhenWALHoldsFrames() async throws {
        let directory = TemporaryDirectory("snapshot-wal-frames")
        let source = directory.url.appendingPathComponent("app.sqlite")
        let application = try SampleDatabase.create(at: source, megabytes: 4)
        try await application.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        // Another reader keeps every checkpoint from copying the next commits into the file.
        let reader = try HeldTransaction(path: source.path, write: false)
        for pair in 1...20 {
            try await application.write { db in
                try db.execute(sql: "INSERT INTO ledger(pair, amount) VALUES (?, 5), (?, -5)", arguments: [pair, pair])
            }
        }
        try await application.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        let latest = try TestDB.fingerprint(source.path)
        let scratch = directory.url.appendingPathComponent("scratch.sqlite")

        let (inPlace, copied) = try await SnapshotEngine().withSnapshot(source: source, scratch: scratch) {
            (view) throws(BackupError) in
            do {
                let copy = directory.url.appendingPathComponent("copy.sqlite")
                try Self.bytes(of: view).write(to: copy)
                return (view.isLiveFile, try TestDB.fingerprint(copy.path))
            } catch {
                throw .io(path: scratch.path, reason: "\(error)")
            }
        }

        #expect(!inPlace)
        #expect(copied == latest)
        #expect(!FileManager.default.fileExists(atPath: scratch.path))
        try reader.release()
        try application.close()
    }

    @Test("a rollback-journal database is read in place: the held read lock keeps writers out of the file")
    func rollbackJournalInPlace() async throws {
        let directory = TemporaryDirectory("snapshot-rollback")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try TestDB.execute(source.path, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")
        let (inPlace, rows) = try await SnapshotEngine().withSnapshot(
            source: source, scratch: directory.url.appendingPathComponent("scratch.sqlite")
        ) { (view) throws(BackupError) in
            (view.isLiveFile, view.byteCount)
        }
        #expect(inPlace)
        #expect(rows == Int64(FileOps.size(of: source) ?? -1))
    }

    // Closing any descriptor of a file drops every POSIX lock the process holds on it: reading
    // the live file (rollback journal) or its wal-index (WAL) with a descriptor of our own would
    // release a restore's write lock.
    @Test(
        "reading in place keeps this process's SQLite locks: a write lock held beside it still keeps other writers out",
        arguments: [false, true])
    func readingKeepsLocks(wal: Bool) async throws {
        let directory = TemporaryDirectory("snapshot-locks")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try TestDB.execute(source.path, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")
        if wal { try TestDB.setJournalMode(source.path, "wal") }
        let restoreLock = try HeldTransaction(path: source.path, write: true)

        let inPlace = try await SnapshotEngine().withSnapshot(
            source: source, scratch: directory.url.appendingPathComponent("scratch.sqlite")
        ) { (view) throws(BackupError) in
            _ = try? Self.bytes(of: view)
            return view.isLiveFile
        }

        #expect(inPlace)
        // Another process (locks held within one process are also tracked by SQLite itself).
        let other = try ChildProcess(executablePath: "/usr/bin/sqlite3").run([
            source.path, "INSERT INTO t VALUES (4)",
        ])
        #expect(other.status != 0, "another process could write past the held lock")
        #expect(other.stderr.contains("locked"), "\(other.stderr)")
        try restoreLock.release()
    }

    /// Every byte of the snapshot, read as a bundle reads it.
    static func bytes(of view: SnapshotView) throws -> Data {
        var data = Data(count: Int(view.byteCount))
        let count = try data.withUnsafeMutableBytes { (buffer) throws(BackupError) in
            try view.reader.read(into: buffer, at: 0)
        }
        return data.prefix(count)
    }
}
