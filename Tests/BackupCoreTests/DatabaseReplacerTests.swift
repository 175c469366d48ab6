import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("DatabaseReplacer: SQLite's backup API inside one held write lock", .serialized)
struct DatabaseReplacerTests {
    /// A live database and a copy with different content, both in `journal` mode.
    static func databases(_ label: String, liveWAL: Bool) throws -> (TemporaryDirectory, URL, URL) {
        let directory = TemporaryDirectory(label)
        let live = directory.url.appendingPathComponent("live.sqlite")
        let copy = directory.url.appendingPathComponent("copy.sqlite")
        try SampleDatabase.create(at: live, megabytes: 1)
        try SampleDatabase.create(at: copy, megabytes: 1)
        try TestDB.execute(copy.path, "INSERT INTO ledger(pair, amount) VALUES (1, 5), (1, -5)")
        if !liveWAL { try TestDB.setJournalMode(live.path, "DELETE") }
        return (directory, live, copy)
    }

    /// A connection that never waits for a lock.
    static func impatient(_ url: URL) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .immediateError
        return try DatabaseQueue(path: url.path, configuration: config)
    }

    @Test(
        "while the lock is held no other connection commits; the backup step writes inside it and commits it",
        arguments: [true, false])
    func lockHeldUntilTheCopyCommits(liveWAL: Bool) async throws {
        let (directory, live, copy) = try Self.databases("replacer-lock", liveWAL: liveWAL)
        defer { withExtendedLifetime(directory) {} }
        let other = try Self.impatient(live)
        let replacer = try DatabaseReplacer.open(live: live, copy: copy, timeout: .seconds(5))
        try await replacer.lock(timeout: .seconds(5))
        #expect(throws: DatabaseError.self) {
            try other.write { try $0.execute(sql: "INSERT INTO ledger(pair, amount) VALUES (2, 1), (2, -1)") }
        }
        // Readers still read the old content (the safety backup reads like this).
        #expect(try await other.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM ledger") } == 0)
        try await replacer.replace(timeout: .seconds(5))
        #expect(replacer.writersWaited != nil)
        try await other.write { try $0.execute(sql: "INSERT INTO ledger(pair, amount) VALUES (3, 1), (3, -1)") }
        await replacer.close()
        #expect(try TestDB.strings(live.path, "SELECT pair FROM ledger ORDER BY id") == ["1", "1", "3", "3"])
        #expect(DatabaseReplacer.isWAL(live) == liveWAL)
    }

    @Test("a transaction of the application held open: lock gives up after its timeout, nothing changed")
    func heldWriterTimesOut() async throws {
        let (directory, live, copy) = try Self.databases("replacer-writer", liveWAL: true)
        defer { withExtendedLifetime(directory) {} }
        let application = try HeldTransaction(path: live.path)
        let replacer = try DatabaseReplacer.open(live: live, copy: copy, timeout: .seconds(1))
        await #expect(throws: BackupError.databaseLocked(seconds: 1)) {
            try await replacer.lock(timeout: .seconds(1))
        }
        await replacer.abandon()
        try application.release()
        #expect(try TestDB.int(live.path, "SELECT COUNT(*) FROM ledger") == 0)
    }

    @Test("rollback-journal mode: a reader holding the database delays the commit; past the deadline it rolls back")
    func rollbackReaderTimesOut() async throws {
        let (directory, live, copy) = try Self.databases("replacer-reader", liveWAL: false)
        defer { withExtendedLifetime(directory) {} }
        let reader = try HeldTransaction(path: live.path, write: false)
        let replacer = try DatabaseReplacer.open(live: live, copy: copy, timeout: .seconds(1))
        try await replacer.lock(timeout: .seconds(1))
        await #expect(throws: BackupError.databaseLocked(seconds: 1)) {
            try await replacer.replace(timeout: .seconds(1))
        }
        await replacer.abandon()
        #expect(replacer.writersWaited != nil)
        try reader.release()
        #expect(try TestDB.int(live.path, "SELECT COUNT(*) FROM ledger") == 0)
        #expect(try TestDB.strings(live.path, "PRAGMA integrity_check") == ["ok"])
        // Released: the application writes again.
        try await Self.impatient(live).write {
            try $0.execute(sql: "INSERT INTO ledger(pair, amount) VALUES (4, 1), (4, -1)")
        }
    }
}
