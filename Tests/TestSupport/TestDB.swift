import Foundation
import GRDB

/// Synchronous one-line queries for assertions (async tests would otherwise pick GRDB's
/// async overloads).
public enum TestDB {
    public static func strings(_ path: String, _ sql: String, readonly: Bool = false) throws -> [String] {
        var config = Configuration()
        config.readonly = readonly
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { try String.fetchAll($0, sql: sql) }
    }

    public static func int(_ path: String, _ sql: String) throws -> Int? {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: sql) }
    }

    public static func execute(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql) }
    }

    /// Switches the database's journal mode (`WAL`, `DELETE`), which SQLite records in the file.
    public static func setJournalMode(_ path: String, _ mode: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.writeWithoutTransaction { _ = try String.fetchOne($0, sql: "PRAGMA journal_mode = \(mode)") }
    }

    /// Whether the invariants of ``SampleDatabase`` hold in the database at `path`.
    public static func invariantsHold(_ path: String) throws -> Bool {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try SampleDatabase.invariantsHold(in: queue)
    }
}

extension TestDB {
    /// What distinguishes two contents of a ``SampleDatabase``: the ledger, the accounts and the
    /// filler's shape. Waits for a writer's lock rather than failing.
    public static func fingerprint(_ path: String) throws -> String {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in
            let ledger = try String.fetchOne(db, sql: "SELECT group_concat(id || ':' || amount) FROM ledger") ?? ""
            let accounts = try String.fetchOne(db, sql: "SELECT group_concat(id || ':' || balance) FROM account") ?? ""
            let filler =
                try String.fetchOne(db, sql: "SELECT COUNT(*) || '/' || SUM(length(payload)) FROM filler") ?? ""
            return "\(ledger)|\(accounts)|\(filler)"
        }
    }
}
