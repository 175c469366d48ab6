import Foundation

extension BackupService {
    /// The record and bundle file of a backup that may be downloaded: only completed ones, and
    /// the path comes from the catalog's validated file name, never from the request.
    public func downloadableBundle(id: String) throws(BackupError) -> (record: BackupRecord, url: URL) {
        let record = try catalog.record(id: id)
        try record.ensure(.download)
        return (record, try dataDirectory.bundle(named: record.filename))
    }
}
