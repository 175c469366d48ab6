import Foundation
import Logging

extension BackupService {
    /// Deletes a finished backup: first its record, then its bundle and sidecar, then its
    /// off-site copy if it has one.
    ///
    /// That order means a crash in between leaves a file without a record (found and adopted
    /// or quarantined later), never a record pointing at nothing. A backup that a job makes,
    /// verifies or restores, in this process or another, is refused with
    /// ``BackupError/backupInUse(id:job:)``: cancel the backup where it runs, or wait.
    public func delete(id: String) throws(BackupError) {
        let record = try catalog.record(id: id)
        try record.ensure(.delete)
        try deleteFinished(record)
    }

    /// Deletes a record that no running job uses, then its files. A bundle that cannot be
    /// removed puts the record back and fails with ``BackupError/io(path:reason:)``, so the
    /// catalog never loses a backup whose file is still there.
    ///
    /// An incremental backup's file is its index in the repository (``deleteRepositoryIndex(of:)``);
    /// its packs stay for prune.
    func deleteFinished(_ record: BackupRecord) throws(BackupError) {
        // A remote-only incremental backup's one copy is its index in the bucket's repository.
        let remote = record.isInRepository && record.store == S3Store.storeName ? try remoteStore() : nil
        let store: (any BundleStore)? =
            record.store == RepositoryLayout.storeName || remote != nil ? nil : try self.store(for: record)
        let jobLock = dataDirectory.jobLock.path
        try catalog.deleteRecord(id: record.id) { AdvisoryLock.isHeld(at: jobLock) }
        do throws(BackupError) {
            if let store {
                try store.delete(record.filename)
            } else if let remote {
                try remote.deleteRepositoryIndex(of: record)
            } else {
                try deleteRepositoryIndex(of: record)
            }
        } catch {
            try catalog.insert(record)
            throw error
        }
        deleteOffsiteCopy(of: record)
    }

    /// A deleted backup's copy in the bucket goes too (else the next look at the bucket would
    /// bring it back as remote-only). Best effort: a copy that cannot be removed now is logged
    /// and left, and comes back as a remote-only backup to delete again.
    private func deleteOffsiteCopy(of record: BackupRecord) {
        guard Self.isUploadable(record.store), record.offsiteStatus != .none else { return }
        do throws(BackupError) {
            guard let target = try offsiteTarget() else { return }
            let remote = S3Store(target: target, temporary: dataDirectory.temporary)
            if record.store == RepositoryLayout.storeName {
                // Its index; the packs go with the next off-site prune's garbage collection.
                try remote.deleteRepositoryIndex(of: record)
            } else {
                try remote.delete(record.filename)
            }
        } catch {
            Self.offsiteLogger.error(
                "the off-site copy of a deleted backup could not be removed",
                metadata: ["backup_id": "\(record.id)", "error": "\(error.message)"])
        }
    }
}
