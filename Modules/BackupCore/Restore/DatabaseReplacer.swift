import Foundation
import GRDB
import GRDBSQLite

/// Replaces the live database's content with a verified copy, through SQLite's online backup API
/// writing *into* the live database.
///
/// Why this mechanism: the copy is written by SQLite itself, in one write transaction on the live
/// database, under its locks and its journal (rollback journal or WAL). So a crash at any instant
/// leaves the old or the new database, complete; a stale `-wal`/`-shm` is never applied to the new
/// content because SQLite owns those files throughout; and another process that holds the database
/// open waits for the lock and then sees the old or the new content, never a mix. A file rename
/// would instead leave such a process reading the unlinked old file.
enum DatabaseReplacer {
    static func replace(live: URL, with copy: URL) throws(BackupError) {
        do {
            var liveConfig = Configuration()
            liveConfig.label = "restore-live"
            // Readers and writers of the application may hold the database briefly.
            liveConfig.busyMode = .timeout(30)
            let liveQueue = try DatabaseQueue(path: live.path, configuration: liveConfig)
            defer { try? liveQueue.close() }
            var copyConfig = Configuration()
            copyConfig.readonly = true
            copyConfig.label = "restore-copy"
            let copyQueue = try DatabaseQueue(path: copy.path, configuration: copyConfig)
            defer { try? copyQueue.close() }

            try liveQueue.writeWithoutTransaction { liveDB in
                try copyQueue.inDatabase { copyDB in
                    let livePageSize = try Int.fetchOne(liveDB, sql: "PRAGMA page_size") ?? 0
                    let copyPageSize = try Int.fetchOne(copyDB, sql: "PRAGMA page_size") ?? 0
                    let liveMode = try String.fetchOne(liveDB, sql: "PRAGMA journal_mode") ?? ""
                    if liveMode == "wal", livePageSize != copyPageSize {
                        throw BackupError.conflict(
                            reason: "the backup's page size (\(copyPageSize)) differs from the live WAL database's "
                                + "(\(livePageSize)); SQLite cannot change it in WAL mode")
                    }
                    guard
                        let backup = sqlite3_backup_init(
                            liveDB.sqliteConnection, "main", copyDB.sqliteConnection, "main")
                    else {
                        throw DatabaseError(resultCode: liveDB.lastErrorCode, message: liveDB.lastErrorMessage)
                    }
                    var rc: Int32
                    repeat {
                        rc = sqlite3_backup_step(backup, -1)
                        if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { usleep(10_000) }
                    } while rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK
                    let finish = sqlite3_backup_finish(backup)
                    guard rc == SQLITE_DONE, finish == SQLITE_OK else {
                        throw DatabaseError(
                            resultCode: ResultCode(rawValue: rc == SQLITE_DONE ? finish : rc),
                            message: liveDB.lastErrorMessage)
                    }
                }
                // Fold the new content into the main file; harmless when not in WAL mode.
                _ = try? Row.fetchAll(liveDB, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            if let failure = BundleVerifier.integrityCheck(live) {
                throw BackupError.io(path: live.path, reason: "integrity_check after the restore: \(failure)")
            }
        } catch let error as BackupError {
            throw error
        } catch let error as DatabaseError {
            throw .io(
                path: live.path, reason: "cannot write the restored database: \(error.message ?? "\(error.resultCode)")"
            )
        } catch {
            throw .io(path: live.path, reason: "cannot write the restored database: \(error)")
        }
    }
}
