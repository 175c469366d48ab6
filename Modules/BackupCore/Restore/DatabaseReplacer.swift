import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Replaces the live database's content with a verified copy, through SQLite's online backup API
/// writing *into* the live database, under one write lock that the safety backup shares.
///
/// Why this mechanism: the copy is written by SQLite itself, in one write transaction on the live
/// database, under its locks and its journal (rollback journal or WAL). So a crash at any instant
/// leaves the old or the new database, complete; a stale `-wal`/`-shm` is never applied to the new
/// content because SQLite owns those files throughout; and another process that holds the database
/// open waits for the lock and then sees the old or the new content, never a mix. A file rename
/// would instead leave such a process reading the unlinked old file.
///
/// The steps, in order: ``open(live:copy:timeout:)``, ``lock(timeout:)`` (`BEGIN IMMEDIATE` on the live
/// connection: the application's writers now wait), the caller's safety backup (read through
/// another connection, it sees exactly what is about to be replaced), ``replace(timeout:)``, then
/// ``close()`` or, on any failure, ``abandon()``. No write can commit between the safety copy and
/// the replacement.
///
/// How SQLite's backup API behaves here (checked by `DatabaseReplacerTests`):
/// - `sqlite3_backup_init` refuses a destination connection inside a transaction ("destination
///   database is in use"), so the backup is initialised first and `BEGIN IMMEDIATE` follows;
/// - `sqlite3_backup_step` then writes inside that transaction and at `SQLITE_DONE` commits it
///   itself, releasing the write lock (the `COMMIT` after it only ends the connection's
///   transaction state);
/// - in rollback-journal mode that commit needs the EXCLUSIVE lock: the step answers `SQLITE_BUSY`
///   while an application reader holds the database, and is retried until the deadline;
///   `sqlite3_backup_finish` rolls the transaction back when the restore gives up;
/// - the step copies page 1 with the copy's header bytes 18/19 (WAL or legacy) unless the live
///   database is in WAL mode, so the copy is switched to the live database's journal mode first:
///   a restore never changes the live database's journal mode.
final class DatabaseReplacer: Sendable {
    private struct State {
        var lockedAt: ContinuousClock.Instant?
        /// When the lock was released: at the commit, or when the restore gave up.
        var releasedAt: ContinuousClock.Instant?
        var finished = false
    }

    /// How long one attempt waits inside SQLite's busy handler; between attempts the deadline
    /// and cancellation are checked.
    private static let attemptMilliseconds: Int32 = 100

    let live: URL
    private let liveIsWAL: Bool
    private let liveQueue: DatabaseQueue
    private let copyQueue: DatabaseQueue
    private let backup: BackupHandle
    private let state = Mutex(State())

    private init(
        live: URL, liveIsWAL: Bool, liveQueue: DatabaseQueue, copyQueue: DatabaseQueue, backup: BackupHandle
    ) {
        self.live = live
        self.liveIsWAL = liveIsWAL
        self.liveQueue = liveQueue
        self.copyQueue = copyQueue
        self.backup = backup
    }

    /// Opens both databases, gives the copy the live database's journal mode and initialises the
    /// backup. Takes no lock on the live database; opening waits at most `timeout` for a writer
    /// of the application (in rollback-journal mode its commit blocks readers too).
    static func open(live: URL, copy: URL, timeout: Duration) throws(BackupError) -> DatabaseReplacer {
        let liveIsWAL = Self.isWAL(live)
        do {
            var copyConfig = Configuration()
            copyConfig.label = "restore-copy"
            let copyQueue = try DatabaseQueue(path: copy.path, configuration: copyConfig)
            try copyQueue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = \(liveIsWAL ? "WAL" : "DELETE")")
            }

            var liveConfig = Configuration()
            liveConfig.label = "restore-live"
            // The transaction spans several accesses: lock, (safety backup), replace.
            liveConfig.allowsUnsafeTransactions = true
            // Later waits are bounded by lock(timeout:) and replace(timeout:), attempt by attempt.
            liveConfig.busyMode = .timeout(TimeInterval(timeout.components.seconds))
            let liveQueue = try DatabaseQueue(path: live.path, configuration: liveConfig)
            let backup = try liveQueue.writeWithoutTransaction { liveDB in
                try copyQueue.inDatabase { copyDB in
                    guard
                        let pointer = sqlite3_backup_init(
                            liveDB.sqliteConnection, "main", copyDB.sqliteConnection, "main")
                    else {
                        throw DatabaseError(resultCode: liveDB.lastErrorCode, message: liveDB.lastErrorMessage)
                    }
                    return BackupHandle(pointer)
                }
            }
            return DatabaseReplacer(
                live: live, liveIsWAL: liveIsWAL, liveQueue: liveQueue, copyQueue: copyQueue, backup: backup)
        } catch {
            throw Self.map(error, live: live)
        }
    }

    /// Takes the write lock on the live database (`BEGIN IMMEDIATE`), waiting at most `timeout`
    /// for the application's transactions; ``BackupError/databaseLocked(seconds:)`` after that.
    func lock(timeout: Duration) async throws(BackupError) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let acquired: Bool
            do {
                acquired = try await liveQueue.writeWithoutTransaction { db in
                    sqlite3_busy_timeout(db.sqliteConnection, Self.attemptMilliseconds)
                    do {
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        return true
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                        return false
                    }
                }
            } catch {
                throw Self.map(error, live: live)
            }
            if acquired { break }
            if Task.isCancelled { throw .cancelled }
            if clock.now >= deadline { throw .databaseLocked(seconds: Int(timeout.components.seconds)) }
        }
        state.withLock { $0.lockedAt = clock.now }
        try await checkPageSize()
    }

    /// A live WAL database cannot change its page size: such a backup is refused before anything
    /// is written, rather than failing half-way.
    private func checkPageSize() async throws(BackupError) {
        guard liveIsWAL else { return }
        let copyQueue = self.copyQueue
        do {
            let (livePageSize, copyPageSize) = try await liveQueue.writeWithoutTransaction { liveDB in
                let livePageSize = try Int.fetchOne(liveDB, sql: "PRAGMA page_size") ?? 0
                let copyPageSize = try copyQueue.inDatabase { try Int.fetchOne($0, sql: "PRAGMA page_size") } ?? 0
                return (livePageSize, copyPageSize)
            }
            if livePageSize != copyPageSize {
                throw BackupError.pageSizeMismatch(backup: copyPageSize, live: livePageSize)
            }
        } catch {
            throw Self.map(error, live: live)
        }
    }

    /// Writes the copy into the live database and commits, still under the lock from
    /// ``lock(timeout:)``. In rollback-journal mode the commit waits for the application's readers,
    /// at most `timeout`.
    func replace(timeout: Duration, afterCommit: @escaping @Sendable () -> Void = {}) async throws(BackupError) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let backup = self.backup
        while true {
            let rc: Int32
            do {
                rc = try await liveQueue.writeWithoutTransaction { db in
                    sqlite3_busy_timeout(db.sqliteConnection, Self.attemptMilliseconds)
                    let rc = sqlite3_backup_step(backup.pointer, -1)
                    // The step has committed the copy: whatever must follow that commit at once
                    // (a restore of directories records its commit point) runs on this thread now.
                    if rc == SQLITE_DONE { afterCommit() }
                    return rc
                }
            } catch {
                throw Self.map(error, live: live)
            }
            switch rc {
            case SQLITE_DONE:
                state.withLock { $0.releasedAt = clock.now }
                try await finish()
                return
            case SQLITE_BUSY, SQLITE_LOCKED:
                if Task.isCancelled { throw .cancelled }
                if clock.now >= deadline { throw .databaseLocked(seconds: Int(timeout.components.seconds)) }
            default:
                let message = try? await liveQueue.writeWithoutTransaction { $0.lastErrorMessage }
                throw .io(
                    path: live.path,
                    reason: "cannot write the restored database: \(message ?? String(cString: sqlite3_errstr(rc)))")
            }
        }
    }

    /// Ends the backup after its commit, and the connection's transaction state.
    private func finish() async throws(BackupError) {
        guard takeBackup() else { return }
        let backup = self.backup
        do {
            try await liveQueue.writeWithoutTransaction { db in
                let finished = sqlite3_backup_finish(backup.pointer)
                if sqlite3_get_autocommit(db.sqliteConnection) == 0 { try db.execute(sql: "COMMIT") }
                guard finished == SQLITE_OK else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: finished), message: db.lastErrorMessage)
                }
            }
        } catch {
            throw Self.map(error, live: live)
        }
    }

    /// True once: whoever gets it calls `sqlite3_backup_finish`.
    private func takeBackup() -> Bool {
        state.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
    }

    /// How long the application's writers were held off: from the lock to the commit (or to
    /// ``abandon()``); nil when the lock was never taken.
    var writersWaited: Duration? {
        state.withLock { state in
            guard let lockedAt = state.lockedAt, let releasedAt = state.releasedAt else { return nil }
            return releasedAt - lockedAt
        }
    }

    /// After a successful replacement: folds the new content into the main file (WAL mode; a
    /// reader may prevent it, which does no harm) and closes the connections.
    func close() async {
        _ = try? await liveQueue.writeWithoutTransaction { db in
            sqlite3_busy_timeout(db.sqliteConnection, 1000)
            _ = try? Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try? liveQueue.close()
        try? copyQueue.close()
    }

    /// Gives up: rolls back whatever the backup wrote (nothing is committed before `SQLITE_DONE`),
    /// releases the lock and closes the connections. The live database is as it was.
    func abandon() async {
        let backup = takeBackup() ? self.backup : nil
        _ = try? await liveQueue.writeWithoutTransaction { db in
            if let backup { sqlite3_backup_finish(backup.pointer) }
            if sqlite3_get_autocommit(db.sqliteConnection) == 0 { try? db.execute(sql: "ROLLBACK") }
        }
        state.withLock { state in
            if state.lockedAt != nil, state.releasedAt == nil { state.releasedAt = ContinuousClock().now }
        }
        try? liveQueue.close()
        try? copyQueue.close()
    }

    /// The live database's schema cookie (`PRAGMA schema_version`), read under the lock from
    /// ``lock(timeout:)``: the replacement's commit writes this value plus one (SQLite's backup
    /// API raises the destination's cookie so that every connection reloads its schema).
    func schemaVersion() async throws(BackupError) -> Int {
        do {
            return try await liveQueue.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA schema_version") }
                ?? 0
        } catch {
            throw Self.map(error, live: live)
        }
    }

    /// The schema cookie of the database at `url` as it stands now (a crashed writer's journal
    /// rolled back or its WAL read, as SQLite does on opening); nil when it cannot be read.
    static func schemaVersion(of url: URL) -> Int? {
        var config = Configuration()
        config.label = "restore-recovery"
        config.busyMode = .timeout(5)
        guard let queue = try? DatabaseQueue(path: url.path, configuration: config) else { return nil }
        defer { try? queue.close() }
        return try? queue.read { try Int.fetchOne($0, sql: "PRAGMA schema_version") }
    }

    /// Whether the database file's header says WAL (bytes 18 and 19 are 2); read without SQLite so
    /// that no lock is needed.
    static func isWAL(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 20), header.count == 20 else { return false }
        return header[header.startIndex + 18] == 2 && header[header.startIndex + 19] == 2
    }

    private static func map(_ error: any Error, live: URL) -> BackupError {
        if let error = error as? BackupError { return error }
        if error is CancellationError { return .cancelled }
        if let error = error as? DatabaseError {
            if error.resultCode == .SQLITE_INTERRUPT { return .cancelled }
            return .io(
                path: live.path, reason: "cannot write the restored database: \(error.message ?? "\(error.resultCode)")"
            )
        }
        return .io(path: live.path, reason: "cannot write the restored database: \(error)")
    }
}

/// The `sqlite3_backup` of a replacement.
///
/// `@unchecked Sendable` is sound here: the pointer is only ever used inside the live queue's
/// accesses (`DatabaseQueue` runs them one at a time on its own serial queue), and
/// `sqlite3_backup_finish` is called at most once (``DatabaseReplacer`` records it in its state).
final class BackupHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }
}
