import Foundation

extension BackupService {
    /// Deletes the index file of an incremental backup (`store` `repository`) and fsyncs
    /// `index/`; an index already gone is not an error. Its packs stay: prune removes the chunks
    /// no remaining index needs. Anything but an incremental backup's record is left alone.
    ///
    /// The one way an index leaves the repository: deleting a backup, retention and prune call it.
    func deleteRepositoryIndex(of record: BackupRecord) throws(BackupError) {
        guard record.store == RepositoryLayout.storeName else { return }
        guard RepositoryLayout.backupID(ofIndex: record.filename) == record.id else {
            throw .io(path: record.filename, reason: "not the index file of backup \(record.id)")
        }
        let url = dataDirectory.repository.appendingPathComponent(RepositoryLayout.indexFolder)
            .appendingPathComponent(record.filename)
        guard FileOps.exists(url) else { return }
        try FileOps.remove(url)
        try FileOps.fsyncDirectory(url.deletingLastPathComponent())
    }
}
