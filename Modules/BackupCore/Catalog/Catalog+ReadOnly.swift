import Foundation
import GRDB

extension Catalog {
    /// Opens the catalog of an existing data directory for reading only: nothing is created,
    /// migrated or written, so a monitoring user or a read-only mount can list and show backups.
    ///
    /// Fails with ``BackupError/dataDirectoryMissing(path:)`` when the data directory does not
    /// exist; a data directory that has no catalog yet reads as an empty one.
    public convenience init(readingFrom dataDirectory: DataDirectory) throws(BackupError) {
        try dataDirectory.requireExisting()
        if FileManager.default.fileExists(atPath: dataDirectory.catalog.path) {
            try self.init(readingFrom: dataDirectory.catalog)
        } else {
            self.init(writer: try Self.emptyCatalog(), readOnly: true)
        }
    }

    /// An empty catalog in memory, for a data directory where no backup was made yet.
    private static func emptyCatalog() throws(BackupError) -> DatabaseQueue {
        do {
            let empty = try DatabaseQueue(configuration: readOnlyConfiguration(readonly: false))
            try migrator(now: Date()).migrate(empty)
            return empty
        } catch {
            throw .io(path: "catalog.sqlite", reason: "cannot open an empty catalog: \(describe(error))")
        }
    }

    /// Opens the catalog file at `url` for reading only.
    ///
    /// SQLite's read-only WAL rules decide how: a read-only connection uses the WAL when the
    /// `-shm` file exists and is readable or when it may create it (a writer may be active, so
    /// this sees its latest commits). Otherwise (no `-shm` in a directory it may not write) the
    /// file is opened `immutable=1`: the database file alone, without locks. That file holds
    /// every committed record whenever no writer has the catalog open, because the last
    /// connection to close checkpoints the WAL into it.
    public convenience init(readingFrom url: URL) throws(BackupError) {
        let queue: DatabaseQueue
        do {
            queue = try Self.openReadOnly(path: url.path)
        } catch {
            do {
                queue = try Self.openReadOnly(path: Self.immutableURI(for: url))
            } catch {
                throw .io(path: url.path, reason: "cannot read the catalog: \(Self.describe(error))")
            }
        }
        let current: Bool
        do {
            current = try queue.read { db in try Self.migrator(now: Date()).hasCompletedMigrations(db) }
        } catch {
            throw .io(path: url.path, reason: "cannot read the catalog: \(Self.describe(error))")
        }
        guard current else {
            try? queue.close()
            // An older catalog: upgraded here when this user may write it (the first `list` after
            // an upgrade just works), else a clear refusal.
            guard access(url.path, W_OK) == 0, access(url.deletingLastPathComponent().path, W_OK) == 0 else {
                throw .io(
                    path: url.path,
                    reason: "the catalog was written by an older version; run a command that writes (backup create) "
                        + "or the server once with write access to upgrade it")
            }
            try self.init(url: url)
            return
        }
        self.init(writer: queue, readOnly: true)
    }

    /// Opens the catalog of an existing data directory for an inspection that must leave no
    /// trace (`backup doctor`): while no process has it open (no `-wal` or `-shm` beside it) the
    /// file is read `immutable=1`, so SQLite creates neither; otherwise, or for a catalog of an
    /// older version, as ``init(readingFrom:)-(DataDirectory)``.
    public convenience init(inspecting dataDirectory: DataDirectory) throws(BackupError) {
        let url = dataDirectory.catalog
        let files = FileManager.default
        guard files.fileExists(atPath: url.path), !files.fileExists(atPath: url.path + "-wal"),
            !files.fileExists(atPath: url.path + "-shm")
        else {
            try self.init(readingFrom: dataDirectory)
            return
        }
        let queue: DatabaseQueue
        do {
            queue = try Self.openReadOnly(path: Self.immutableURI(for: url))
        } catch {
            throw .io(path: url.path, reason: "cannot read the catalog: \(Self.describe(error))")
        }
        let current = (try? queue.read { db in try Self.migrator(now: Date()).hasCompletedMigrations(db) }) ?? false
        guard current else {
            try? queue.close()
            try self.init(readingFrom: dataDirectory)
            return
        }
        self.init(writer: queue, readOnly: true)
    }

    /// A read-only connection, tried once so that an unusable WAL fails here, not later.
    private static func openReadOnly(path: String) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path, configuration: readOnlyConfiguration(readonly: true))
        _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
        return queue
    }

    private static func readOnlyConfiguration(readonly: Bool) -> Configuration {
        var config = Configuration()
        config.label = "catalog"
        config.readonly = readonly
        config.busyMode = .timeout(10)
        return config
    }

    /// `file:PATH?immutable=1`, the path percent-encoded as SQLite's URI filenames need.
    static func immutableURI(for url: URL) -> String {
        var components = URLComponents()
        components.scheme = "file"
        components.path = url.path
        components.queryItems = [URLQueryItem(name: "immutable", value: "1")]
        return components.string ?? "file:\(url.path)?immutable=1"
    }
}
