import Foundation

extension BackupService {
    /// The record and bundle file of a backup that may be downloaded: only completed ones, and
    /// the path comes from the catalog's validated file name, never from the request.
    public func downloadableBundle(id: String) throws(BackupError) -> (record: BackupRecord, url: URL) {
        let record = try catalog.record(id: id)
        guard record.status == .completed, record.sha256 != nil else {
            throw .conflict(reason: "backup \(id) is \(record.status.rawValue); only completed backups download")
        }
        return (record, try dataDirectory.bundle(named: record.filename))
    }
}
