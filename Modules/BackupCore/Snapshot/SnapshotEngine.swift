import Foundation
import GRDB
import GRDBSQLite

/// What a snapshot copied.
public struct SnapshotResult: Sendable, Equatable {
    public var pageSize: Int
    public var pageCount: Int
    public var userVersion: Int
    public var sqliteVersion: String
    /// How many times SQLite restarted the copy because the source changed under it.
    /// Holding the read transaction keeps this at 0.
    public var restarts: Int

    public var byteCount: Int64 { Int64(pageSize) * Int64(pageCount) }
}

/// Progress of a snapshot, after each step.
public struct SnapshotProgress: Sendable, Equatable {
    public var pagesDone: Int
    public var pageCount: Int
    public var pageSize: Int

    public var bytesDone: Int64 { Int64(pagesDone) * Int64(pageSize) }
    public var byteCount: Int64 { Int64(pageCount) * Int64(pageSize) }
}

/// Copies a live SQLite database into a new file with SQLite's online backup API.
///
/// The source is opened read-only and one read transaction is held on it for the whole copy:
/// `BEGIN` plus a first read pins the snapshot, so in WAL mode the copy never restarts and never
/// blocks a writer. (`BEGIN` alone would not: SQLite starts the read transaction at the first
/// read, and every foreign commit would restart the copy.) In rollback-journal mode the held
/// read lock keeps writers waiting until the copy ends; that is SQLite's locking, not ours.
public struct SnapshotEngine: Sendable {
    /// Pages copied per `sqlite3_backup_step`; progress and cancellation are checked between steps.
    public var pagesPerStep: Int32

    public init(pagesPerStep: Int32 = 2048) {
        self.pagesPerStep = pagesPerStep
    }

    /// Copies `source` to `destination`, which must not exist. On failure or cancellation the
    /// destination is removed.
    public func snapshot(
        source: URL, destination: URL,
        progress: @escaping @Sendable (SnapshotProgress) -> Void = { _ in }
    ) async throws(BackupError) -> SnapshotResult {
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw .sourceUnavailable(path: source.path, reason: "no such file")
        }
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw .io(path: destination.path, reason: "already exists")
        }
        do {
            let result = try await copy(source: source, destination: destination, progress: progress)
            return result
        } catch {
            Self.removeDatabaseFiles(at: destination)
            if Task.isCancelled || error is CancellationError { throw .cancelled }
            if let error = error as? BackupError { throw error }
            if let error = error as? DatabaseError {
                if error.resultCode == .SQLITE_INTERRUPT { throw .cancelled }
                if error.resultCode == .SQLITE_FULL { throw .diskFull(path: destination.path) }
                throw .sourceUnavailable(path: source.path, reason: error.message ?? "\(error.resultCode)")
            }
            throw .sourceUnavailable(path: source.path, reason: "\(error)")
        }
    }

    private func copy(
        source: URL, destination: URL, progress: @escaping @Sendable (SnapshotProgress) -> Void
    ) async throws -> SnapshotResult {
        var sourceConfig = Configuration()
        sourceConfig.readonly = true
        sourceConfig.label = "snapshot-source"
        // A writer may hold the lock briefly when we begin; wait for it rather than fail.
        sourceConfig.busyMode = .timeout(10)
        // The copy reads each page once: a small page cache keeps the process's peak memory down.
        sourceConfig.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -512") }
        let sourceQueue = try DatabaseQueue(path: source.path, configuration: sourceConfig)
        defer { try? sourceQueue.close() }

        var destinationConfig = Configuration()
        destinationConfig.label = "snapshot-destination"
        let destinationQueue = try DatabaseQueue(path: destination.path, configuration: destinationConfig)
        defer { try? destinationQueue.close() }
        // The copy is a scratch file, made durable later as part of the bundle.
        try await destinationQueue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -512")
        }

        let pagesPerStep = self.pagesPerStep
        return try await sourceQueue.unsafeRead { sourceDB in
            try destinationQueue.writeWithoutTransaction { destinationDB in
                try Self.runBackup(
                    from: sourceDB, to: destinationDB, pagesPerStep: pagesPerStep, progress: progress)
            }
        }
    }

    private static func runBackup(
        from sourceDB: Database, to destinationDB: Database, pagesPerStep: Int32,
        progress: (SnapshotProgress) -> Void
    ) throws -> SnapshotResult {
        try sourceDB.execute(sql: "BEGIN DEFERRED TRANSACTION")
        defer { try? sourceDB.execute(sql: "ROLLBACK") }
        // The first read starts the read transaction and pins the snapshot.
        _ = try Int.fetchOne(sourceDB, sql: "SELECT 1 FROM sqlite_master LIMIT 1")
        let pageSize = try Int.fetchOne(sourceDB, sql: "PRAGMA page_size") ?? 4096
        let userVersion = try Int.fetchOne(sourceDB, sql: "PRAGMA user_version") ?? 0

        guard
            let backup = sqlite3_backup_init(destinationDB.sqliteConnection, "main", sourceDB.sqliteConnection, "main")
        else {
            throw DatabaseError(resultCode: destinationDB.lastErrorCode, message: destinationDB.lastErrorMessage)
        }
        var finished = false
        defer { if !finished { sqlite3_backup_finish(backup) } }

        var restarts = 0
        var lastDone = 0
        var pageCount = 0
        while true {
            try Task.checkCancellation()
            let rc = sqlite3_backup_step(backup, pagesPerStep)
            pageCount = Int(sqlite3_backup_pagecount(backup))
            let done = pageCount - Int(sqlite3_backup_remaining(backup))
            if done < lastDone { restarts += 1 }
            lastDone = done
            switch rc {
            case SQLITE_BUSY, SQLITE_LOCKED:
                // Only a lock on the destination (ours) can cause this; back off briefly.
                usleep(2_000)
                continue
            case SQLITE_OK:
                progress(SnapshotProgress(pagesDone: done, pageCount: pageCount, pageSize: pageSize))
                continue
            case SQLITE_DONE:
                progress(SnapshotProgress(pagesDone: pageCount, pageCount: pageCount, pageSize: pageSize))
            default:
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: destinationDB.lastErrorMessage)
            }
            break
        }
        finished = true
        let finish = sqlite3_backup_finish(backup)
        guard finish == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: finish), message: destinationDB.lastErrorMessage)
        }
        return SnapshotResult(
            pageSize: pageSize, pageCount: pageCount, userVersion: userVersion,
            sqliteVersion: String(cString: sqlite3_libversion()), restarts: restarts)
    }

    /// Removes a database file and its `-journal`, `-wal` and `-shm` companions.
    static func removeDatabaseFiles(at url: URL) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            FileOps.removeIfPresent(URL(fileURLWithPath: url.path + suffix))
        }
    }
}
