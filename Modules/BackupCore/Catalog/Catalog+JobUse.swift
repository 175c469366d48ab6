import Foundation
import GRDB

/// A row of `backup_use`: a backup that a running job works on (verifies, restores from).
///
/// Written by the job's process while it holds the job lock and removed when the job ends, so
/// every process sees it: a delete from the CLI while the server verifies is refused, and the
/// other way round. A row outlives a process that died; it counts only while someone holds the
/// job lock (the kernel drops the lock of a dead process) and the next job's reconciliation
/// removes it (see ``BackupService/beginJob()``).
struct BackupUseRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "backup_use"

    var backupID: String
    var job: JobKind
    /// The process running the job, for an operator reading the catalog.
    var pid: Int32
    var since: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case backupID = "backup_id"
        case job, pid, since
    }
}

extension JobKind: DatabaseValueConvertible {}

extension Catalog {
    /// Records that a job of this process uses backup `id` (its holder holds the job lock).
    func recordUse(of id: String, by job: JobKind, at date: Date) throws(BackupError) {
        try write { db in
            try BackupUseRecord(backupID: id, job: job, pid: getpid(), since: date).upsert(db)
        }
    }

    /// Forgets that a job uses backup `id`.
    func endUse(of id: String) throws(BackupError) {
        _ = try write { db in try BackupUseRecord.deleteOne(db, key: id) }
    }

    /// Forgets every use: only the holder of the job lock may call this, when no job runs.
    @discardableResult
    func clearUses() throws(BackupError) -> Int {
        try write { db in try BackupUseRecord.deleteAll(db) }
    }

    /// The ids of the backups jobs use, as the catalog says (stale rows included).
    func usedBackupIDs() throws(BackupError) -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT backup_id FROM backup_use")) }
    }

    /// Removes a record unless a running job uses it (``BackupError/backupInUse(id:job:)``); a
    /// missing record is not an error. The check and the delete are one transaction, and a job
    /// records its use in one too, so exactly one of them wins. `jobRunning` says whether the job
    /// lock is held: a use recorded by a process that died without clearing it does not count.
    func deleteRecord(id: String, unlessUsedWhile jobRunning: () -> Bool) throws(BackupError) {
        try write { db in
            if let use = try BackupUseRecord.fetchOne(db, key: id), jobRunning() {
                throw BackupError.backupInUse(id: id, job: use.job)
            }
            try BackupRecord.deleteOne(db, key: id)
        }
    }
}
