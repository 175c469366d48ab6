import Foundation
import GRDB

/// The metadata store, `backups/catalog.sqlite`: backup records and settings.
///
/// It lives beside the bundles, apart from the protected database, so a restore never rewinds
/// it. It runs in WAL mode with a busy timeout, so a server and a CLI can use it at once.
/// Commands that only read open it read-only (``init(readingFrom:)-(DataDirectory)``).
public final class Catalog: Sendable {
    let writer: any DatabaseWriter
    /// True when the catalog was opened for reading only: every write is refused.
    public let isReadOnly: Bool

    init(writer: any DatabaseWriter, readOnly: Bool) {
        self.writer = writer
        self.isReadOnly = readOnly
    }

    /// Opens (creating and migrating as needed) the catalog at `url`; `now` dates the migration.
    public convenience init(url: URL, now: Date = Date()) throws(BackupError) {
        var config = Configuration()
        config.label = "catalog"
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: url.path, configuration: config)
            try Self.migrator(now: now).migrate(pool)
        } catch {
            throw .io(path: url.path, reason: "cannot open the catalog: \(Self.describe(error))")
        }
        self.init(writer: pool, readOnly: false)
    }

    /// Opens the catalog of a data directory, creating its folders first.
    public convenience init(dataDirectory: DataDirectory, now: Date = Date()) throws(BackupError) {
        try dataDirectory.prepare()
        try self.init(url: dataDirectory.catalog, now: now)
    }

    /// Closes the catalog's connections (at shutdown, before a restart).
    public func close() {
        try? writer.close()
    }

    /// Runs a read, mapping database failures to ``BackupError``.
    func read<T>(_ body: (Database) throws -> T) throws(BackupError) -> T {
        do { return try writer.read(body) } catch { throw Self.map(error) }
    }

    /// Runs a write in a transaction, mapping database failures to ``BackupError``.
    func write<T>(_ body: (Database) throws -> T) throws(BackupError) -> T {
        guard !isReadOnly else { throw .io(path: "catalog.sqlite", reason: "the catalog is open for reading only") }
        do { return try writer.write(body) } catch { throw Self.map(error) }
    }

    static func map(_ error: any Error) -> BackupError {
        if let error = error as? BackupError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL {
            return .diskFull(path: "catalog.sqlite")
        }
        return .io(path: "catalog.sqlite", reason: describe(error))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}
