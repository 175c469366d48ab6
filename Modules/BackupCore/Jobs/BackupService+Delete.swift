import Foundation

extension BackupService {
    /// Deletes a finished backup: first its record, then its bundle and sidecar.
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
    func deleteFinished(_ record: BackupRecord) throws(BackupError) {
        let store = try store(for: record)
        let jobLock = dataDirectory.jobLock.path
        try catalog.deleteRecord(id: record.id) { AdvisoryLock.isHeld(at: jobLock) }
        do throws(BackupError) {
            try store.delete(record.filename)
        } catch {
            try catalog.insert(record)
            throw error
        }
    }
}
