import Foundation
import GRDB
import Synchronization

/// An application transaction held open on a database: `BEGIN IMMEDIATE` (the write lock) or a
/// read transaction (`BEGIN` and a first read), until ``release()``.
public final class HeldTransaction: Sendable {
    private let queue: DatabaseQueue
    private let open = Mutex(true)

    /// Opens a connection to `path` and begins; `write` takes the write lock, else only reads;
    /// `exclusive` takes the exclusive lock, which in rollback-journal mode also keeps readers out.
    public init(path: String, write: Bool = true, exclusive: Bool = false) throws {
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in
            if exclusive {
                try db.execute(sql: "BEGIN EXCLUSIVE")
            } else if write {
                try db.execute(sql: "BEGIN IMMEDIATE")
            } else {
                try db.execute(sql: "BEGIN")
                _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master")
            }
        }
    }

    /// Rolls back and closes the connection.
    public func release() throws {
        guard
            open.withLock({ open in
                defer { open = false }; return open
            })
        else { return }
        try queue.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        try queue.close()
    }

    deinit { try? release() }
}
