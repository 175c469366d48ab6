import Foundation
import GRDB

extension Catalog {
    /// Stores where backup `id`'s off-site copy stands.
    public func setOffsite(id: String, _ copy: OffsiteCopy) throws(BackupError) {
        _ = try write { db in
            try BackupRecord.filter(key: id).updateAll(
                db, BackupRecord.Columns.offsiteStatus.set(to: copy.status),
                BackupRecord.Columns.offsiteKey.set(to: copy.key),
                BackupRecord.Columns.offsiteUploadedAt.set(to: copy.uploadedAt),
                BackupRecord.Columns.offsiteError.set(to: copy.error))
        }
    }

    /// Uploads left `uploading` by a process that died go back to `pending` (then retried). Only
    /// the holder of the job lock may call this: uploads run under it.
    @discardableResult
    func resetInterruptedUploads() throws(BackupError) -> Int {
        try write { db in
            try BackupRecord.filter(BackupRecord.Columns.offsiteStatus == OffsiteStatus.uploading)
                .updateAll(db, BackupRecord.Columns.offsiteStatus.set(to: OffsiteStatus.pending))
        }
    }

    /// Completed local backups (bundles and incremental backups) still waiting for their off-site copy (pending or failed),
    /// oldest first: what the scheduler's retries work through.
    public func backupsAwaitingUpload() throws(BackupError) -> [BackupRecord] {
        try read { db in
            try BackupRecord
                .filter(BackupRecord.Columns.status == BackupStatus.completed)
                .filter([LocalStore.storeName, RepositoryLayout.storeName].contains(BackupRecord.Columns.store))
                .filter([OffsiteStatus.pending, .failed].contains(BackupRecord.Columns.offsiteStatus))
                .order(BackupRecord.Columns.recordedAt.asc, BackupRecord.Columns.id.asc)
                .fetchAll(db)
        }
    }
}
