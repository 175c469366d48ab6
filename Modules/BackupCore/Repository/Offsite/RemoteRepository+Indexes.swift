import Foundation

extension RemoteRepository {
    /// The incremental backups whose index is in the bucket's `index/`, described by `known`
    /// (this catalog's incremental records, by id) when it has them, else by the metadata their
    /// upload gave the index object (one HEAD each: `backup-type`, `created-at`, `sha256`,
    /// `logical-bytes`, `size-bytes`). An index whose object carries no type or date is not
    /// one of ours and is left out. `local` is left false: the caller knows the local side.
    func indexes(with client: S3Client, known: [String: BackupRecord]) async throws(BackupError) -> [RemoteBackup] {
        var backups: [RemoteBackup] = []
        let folder = RepositoryLayout.indexFolder + "/"
        for (relative, size) in try await listing(with: client, under: folder).sorted(by: { $0.key < $1.key }) {
            let filename = String(relative.dropFirst(folder.count))
            guard let id = RepositoryLayout.backupID(ofIndex: filename) else { continue }
            var backup = RemoteBackup(
                id: id, type: .manual, createdAt: Date(timeIntervalSince1970: 0), filename: filename,
                key: key(relative), sizeBytes: size, local: false, format: .incremental)
            if let record = known[id], record.format == .incremental, record.filename == filename {
                backup.type = record.type
                backup.createdAt = record.createdAt
                backup.sizeBytes = record.sizeBytes ?? size
                backup.logicalBytes = record.logicalBytes
                backup.sha256 = record.sha256
            } else {
                guard let metadata = try await client.head(key: backup.key)?.metadata,
                    let type = metadata["backup-type"].flatMap(BackupType.init(rawValue:)),
                    let createdAt = metadata["created-at"].flatMap(RFC3339.date(from:))
                else { continue }
                backup.type = type
                backup.createdAt = createdAt
                backup.sizeBytes = metadata["size-bytes"].flatMap { Int64($0) } ?? size
                backup.logicalBytes = metadata["logical-bytes"].flatMap { Int64($0) }
                backup.sha256 = metadata["sha256"].flatMap { $0.utf8.count == 64 ? $0 : nil }
            }
            backups.append(backup)
        }
        return backups
    }
}
