import Foundation
import GRDB

/// Builds real SQLite databases for tests.
public enum SampleDatabase {
    /// A WAL-mode database with a `ledger` of paired rows (each pair sums to zero), an
    /// `account` table whose balances sum to zero, and `filler` rows to reach about `megabytes`.
    @discardableResult
    public static func create(at url: URL, megabytes: Int, accounts: Int = 100) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: url.path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: """
                    CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
                    CREATE TABLE ledger(id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, amount INTEGER NOT NULL);
                    CREATE TABLE filler(id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
                    """)
        }
        try queue.write { db in
            for id in 1...accounts {
                try db.execute(sql: "INSERT INTO account(id, balance) VALUES (?, 0)", arguments: [id])
            }
            // Rows of 4 KB, a fifth random and the rest zeros: compressible like real data.
            let rows = megabytes * 256
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO filler(payload) SELECT randomblob(800) || zeroblob(3200) FROM n
                    """, arguments: [rows])
        }
        return queue
    }

    /// Whether a database keeps the invariants `create` set up and a writer maintains.
    public static func invariantsHold(in queue: any DatabaseReader) throws -> Bool {
        try queue.read { db in
            let balance = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(balance), 0) FROM account") ?? -1
            let ledger = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(amount), 0) FROM ledger") ?? -1
            let unpaired =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) FROM (SELECT pair FROM ledger GROUP BY pair HAVING COUNT(*) != 2 OR SUM(amount) != 0)"
                ) ?? -1
            return balance == 0 && ledger == 0 && unpaired == 0
        }
    }
}
