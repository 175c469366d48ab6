import Foundation
import GRDB
import Synchronization

/// Notices commits to the catalog made through any other connection: another process (the
/// CLI creating, deleting or pruning), or this process's own ``Catalog``.
///
/// It keeps one connection of its own and asks it for `PRAGMA data_version`, which SQLite bumps
/// whenever another connection has committed to the file. The question costs one tiny read, so
/// it can be asked every second.
public final class CatalogWatcher: Sendable {
    private let connection: DatabaseQueue
    private let lastVersion: Mutex<Int>

    /// Opens a dedicated read-only connection to the catalog at `url`; changes are counted from now.
    public init(url: URL) throws(BackupError) {
        var config = Configuration()
        config.label = "catalog-watcher"
        config.readonly = true
        config.busyMode = .timeout(10)
        do {
            connection = try DatabaseQueue(path: url.path, configuration: config)
            lastVersion = Mutex(try connection.read { db in try Self.version(db) })
        } catch {
            throw Catalog.map(error)
        }
    }

    /// Whether another connection committed to the catalog since the previous call (or since
    /// the watcher was made). The read runs on GRDB's own queue, off the cooperative pool.
    public func poll() async throws(BackupError) -> Bool {
        let version: Int
        do { version = try await connection.read { db in try Self.version(db) } } catch { throw Catalog.map(error) }
        return lastVersion.withLock { last in
            defer { last = version }
            return version != last
        }
    }

    /// Closes the connection.
    public func close() {
        try? connection.close()
    }

    private static func version(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }
}
