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

/// What a bundle reads the database from while ``SnapshotEngine/withSnapshot(source:scratch:progress:body:)``
/// runs its body: the live database file itself, or a copy made by SQLite's backup API.
public struct SnapshotView: Sendable {
    /// Reads the snapshot's ``byteCount`` bytes. Never open the live database file yourself
    /// instead: closing a descriptor of it would drop SQLite's locks (see ``SnapshotReader``).
    public var reader: SnapshotReader
    public var result: SnapshotResult
    /// True when the bytes are the live database's, read under the held read transaction: no copy was made.
    public var isLiveFile: Bool

    public var byteCount: Int64 { result.byteCount }
}

/// Takes a consistent snapshot of a live SQLite database without blocking its writers.
///
/// The source is opened read-only and one read transaction is held on it: `BEGIN` plus a first
/// read pins the snapshot, so in WAL mode a copy never restarts and never blocks a writer.
/// (`BEGIN` alone would not: SQLite starts the read transaction at the first read, and every
/// foreign commit would restart the copy.) In rollback-journal mode the held read lock keeps
/// writers waiting until the read ends; that is SQLite's locking, not ours.
///
/// Often no copy is needed at all. While the read transaction is held, SQLite never writes the
/// database file past this reader's view: in rollback-journal mode a writer needs the exclusive
/// lock our shared lock excludes; in WAL mode a checkpoint copies frames back only up to the
/// oldest reader's mark (and not at all while a reader ignores the WAL). So when the file
/// already holds everything the snapshot includes (rollback mode, or a WAL whose every frame is
/// checkpointed, as the wal-index says: ``WALIndex``), its first `page_count × page_size` bytes
/// ARE the snapshot and stay so until the transaction ends: ``withSnapshot(source:scratch:progress:body:)``
/// then reads them in place, with no copy. Otherwise it copies with SQLite's online backup API.
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
        try await pinned(source: source, scratch: destination, inPlace: false, progress: progress) { $0.result }
    }

    /// Pins a snapshot of `source` and runs `body` with it, on the database connection's own
    /// thread (never Swift's cooperative pool), while the snapshot is valid. `body` reads the
    /// live file in place when it can, or a copy made at `scratch` (which must not exist; the
    /// copy is removed when `body` returns or throws). After a copy the read transaction ends
    /// before `body` runs, so checkpoints go on while the copy is read.
    public func withSnapshot<T: Sendable>(
        source: URL, scratch: URL,
        progress: @escaping @Sendable (SnapshotProgress) -> Void = { _ in },
        body: @escaping @Sendable (SnapshotView) throws(BackupError) -> T
    ) async throws(BackupError) -> T {
        defer { Self.removeDatabaseFiles(at: scratch) }
        return try await pinned(source: source, scratch: scratch, inPlace: true, progress: progress, body: body)
    }

    private func pinned<T: Sendable>(
        source: URL, scratch: URL, inPlace: Bool, progress: @escaping @Sendable (SnapshotProgress) -> Void,
        body: @escaping @Sendable (SnapshotView) throws(BackupError) -> T
    ) async throws(BackupError) -> T {
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw .sourceUnavailable(path: source.path, reason: "no such file")
        }
        guard !FileManager.default.fileExists(atPath: scratch.path) else {
            throw .io(path: scratch.path, reason: "already exists")
        }
        do {
            return try await run(source: source, scratch: scratch, inPlace: inPlace, progress: progress, body: body)
        } catch {
            Self.removeDatabaseFiles(at: scratch)
            if let error = error as? BackupError { throw error }
            if Task.isCancelled || error is CancellationError { throw .cancelled }
            if let error = error as? DatabaseError {
                if error.resultCode == .SQLITE_INTERRUPT { throw .cancelled }
                if error.resultCode == .SQLITE_FULL { throw .diskFull(path: scratch.path) }
                throw .sourceUnavailable(path: source.path, reason: error.message ?? "\(error.resultCode)")
            }
            throw .sourceUnavailable(path: source.path, reason: "\(error)")
        }
    }

    private func run<T: Sendable>(
        source: URL, scratch: URL, inPlace: Bool, progress: @escaping @Sendable (SnapshotProgress) -> Void,
        body: @escaping @Sendable (SnapshotView) throws(BackupError) -> T
    ) async throws -> T {
        var sourceConfig = Configuration()
        sourceConfig.readonly = true
        sourceConfig.label = "snapshot-source"
        // A writer may hold the lock briefly when we begin; wait for it rather than fail.
        sourceConfig.busyMode = .timeout(10)
        // The copy reads each page once: a small page cache keeps the process's peak memory down.
        sourceConfig.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -512") }
        let sourceQueue = try DatabaseQueue(path: source.path, configuration: sourceConfig)
        defer { try? sourceQueue.close() }

        let pagesPerStep = self.pagesPerStep
        return try await sourceQueue.unsafeRead { sourceDB in
            try sourceDB.execute(sql: "BEGIN DEFERRED TRANSACTION")
            var pinned = true
            defer { if pinned { try? sourceDB.execute(sql: "ROLLBACK") } }
            // The first read starts the read transaction and pins the snapshot.
            _ = try Int.fetchOne(sourceDB, sql: "SELECT 1 FROM sqlite_master LIMIT 1")
            let pageSize = try Int.fetchOne(sourceDB, sql: "PRAGMA page_size") ?? 4096
            let pageCount = try Int.fetchOne(sourceDB, sql: "PRAGMA page_count") ?? 0
            let userVersion = try Int.fetchOne(sourceDB, sql: "PRAGMA user_version") ?? 0
            let byteCount = Int64(pageSize) * Int64(pageCount)

            if inPlace, try Self.fileIsSnapshot(source, database: sourceDB, byteCount: byteCount),
                let reader = SnapshotReader(connection: sourceDB, path: source.path)
            {
                progress(SnapshotProgress(pagesDone: pageCount, pageCount: pageCount, pageSize: pageSize))
                let result = SnapshotResult(
                    pageSize: pageSize, pageCount: pageCount, userVersion: userVersion,
                    sqliteVersion: String(cString: sqlite3_libversion()), restarts: 0)
                return try body(SnapshotView(reader: reader, result: result, isLiveFile: true))
            }

            var destinationConfig = Configuration()
            destinationConfig.label = "snapshot-destination"
            let destinationQueue = try DatabaseQueue(path: scratch.path, configuration: destinationConfig)
            let result = try destinationQueue.writeWithoutTransaction { destinationDB in
                // The copy is a scratch file, made durable later as part of the bundle.
                try destinationDB.execute(
                    sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -512")
                return try Self.runBackup(
                    from: sourceDB, to: destinationDB, pageSize: pageSize, userVersion: userVersion,
                    pagesPerStep: pagesPerStep, progress: progress)
            }
            try destinationQueue.close()
            pinned = false
            try sourceDB.execute(sql: "ROLLBACK")
            return try body(SnapshotView(reader: try SnapshotReader(copy: scratch), result: result, isLiveFile: false))
        }
    }

    /// Whether the live file's first `byteCount` bytes are the pinned snapshot, and stay so
    /// while the read transaction is held (see the type's documentation).
    private static func fileIsSnapshot(_ source: URL, database: Database, byteCount: Int64) throws -> Bool {
        guard let size = FileOps.size(of: source), size >= byteCount else { return false }
        let mode = try String.fetchOne(database, sql: "PRAGMA journal_mode")?.lowercased()
        guard mode == "wal" else { return true }
        return WALIndex.read(connection: database)?.isFullyBackfilled ?? false
    }

    private static func runBackup(
        from sourceDB: Database, to destinationDB: Database, pageSize: Int, userVersion: Int, pagesPerStep: Int32,
        progress: (SnapshotProgress) -> Void
    ) throws -> SnapshotResult {
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
