import Foundation
import GRDB

/// An application transaction held open on a database: `BEGIN IMMEDIATE` (the write lock) or a
/// read transaction (`BEGIN` and a first read), until ``release()``.
public final class HeldTransaction {
    private let queue: DatabaseQueue
    private var open = true

    /// Opens a connection to `path` and begins; `write` takes the write lock, else only reads.
    public init(path: String, write: Bool = true) throws {
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in
            if write {
                try db.execute(sql: "BEGIN IMMEDIATE")
            } else {
                try db.execute(sql: "BEGIN")
                _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master")
            }
        }
    }

    /// Rolls back and closes the connection.
    public func release() throws {
        guard open else { return }
        open = false
        try queue.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        try queue.close()
    }

    deinit { try? release() }
}
