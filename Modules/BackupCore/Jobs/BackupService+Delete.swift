import Foundation

extension BackupService {
    /// Deletes a finished backup: first its record, then its bundle and sidecar.
    ///
    /// That order means a crash in between leaves a file without a record (found and adopted
    /// or quarantined later), never a record pointing at nothing. A job still running is refused
    /// with ``BackupError/conflict(reason:)``: cancel it where it runs.
    public func delete(id: String) throws(BackupError) {
        let record = try catalog.record(id: id)
        if record.status.isActive {
            throw .conflict(reason: "backup \(id) is \(record.status.rawValue); cancel it before deleting it")
        }
        try deleteFinished(record)
    }

    /// Deletes a record that no job works on, then its files.
    func deleteFinished(_ record: BackupRecord) throws(BackupError) {
        let store = try store(for: record)
        try catalog.deleteRecord(id: record.id)
        try store.delete(record.filename)
    }
}
