import Foundation

extension BackupService {
    /// Uploads incremental backup `record` to the bucket's copy of the repository
    /// (``RemoteRepository``): `config.json` (and the encrypted repository's key) when the bucket
    /// lacks them, then every pack its index needs that the bucket does not hold yet (one listing
    /// tells; each pack uploaded is marked `uploaded` in the catalog), then its index, LAST: an
    /// index in the bucket means every pack it needs is there. Only new packs travel. `progress`
    /// hears the bytes sent so far and the bytes to send. The caller holds the job lock.
    func replicateRepositoryBackup(
        _ record: BackupRecord, to store: S3Store, progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws(BackupError) -> RepositoryUploadReport {
        let root = dataDirectory.repository
        let indexPath = "\(RepositoryLayout.indexFolder)/\(record.filename)"
        let indexFile = root.appendingPathComponent(indexPath)
        guard let indexSize = FileOps.size(of: indexFile) else {
            throw .io(path: indexFile.path, reason: "the index of backup \(record.id) is not in the repository")
        }
        let service = self
        let needed = try await BlockingWork.run { () throws(BackupError) -> [RepositoryPackRecord] in
            try service.packsNeeded(by: record, indexFile: indexFile)
        }
        let remote = RemoteRepository(store: store)
        let catalog = self.catalog
        let metadata = Self.objectMetadata(record)
        return try await store.withClient { (client) async throws(BackupError) -> RepositoryUploadReport in
            var report = RepositoryUploadReport()
            let present = try await remote.listing(with: client)
            var missing: [(relative: String, size: Int64)] = []
            for relative in [RepositoryLayout.config, RepositoryLayout.keyFile] where present[relative] == nil {
                if let size = FileOps.size(of: root.appendingPathComponent(relative)) {
                    missing.append((relative, size))
                }
            }
            var packs: [(pack: RepositoryPackRecord, relative: String)] = []
            for pack in needed {
                let relative = Self.packPath(pack.name, in: root)
                if present[relative] != pack.sizeBytes {
                    missing.append((relative, pack.sizeBytes))
                    packs.append((pack, relative))
                } else if pack.offsiteStatus != OffsiteStatus.uploaded.rawValue {
                    try catalog.setPackOffsite(pack.name, status: .uploaded)
                }
            }
            let total = missing.reduce(indexSize) { $0 + $1.size }
            progress(0, total)
            for (relative, size) in missing {
                let before = report.bytesSent
                try await remote.upload(root.appendingPathComponent(relative), as: relative, with: client) { sent in
                    progress(before + sent, total)
                }
                report.bytesSent += size
                if let pack = packs.first(where: { $0.relative == relative })?.pack {
                    try catalog.setPackOffsite(pack.name, status: .uploaded)
                    report.packsUploaded.append(pack.name)
                }
            }
            let before = report.bytesSent
            try await remote.upload(indexFile, as: indexPath, with: client, metadata: metadata) { sent in
                progress(before + sent, total)
            }
            report.bytesSent += indexSize
            return report
        }
    }

    /// The catalog's rows of the packs holding backup `record`'s chunks. Its index is read (an
    /// encrypted one with the repository's key, opened by the bundle keys); when no key here opens
    /// it, every pack the catalog lists stands in (a superset: the backup's packs are among them).
    /// A chunk no pack holds fails: the backup is not whole locally.
    func packsNeeded(by record: BackupRecord, indexFile: URL) throws(BackupError) -> [RepositoryPackRecord] {
        let all = try catalog.repositoryPacks()
        var identity: AgeIdentity?
        if indexFile.lastPathComponent.hasSuffix(".age") {
            guard let keys = try? bundleKeys().load(),
                let unlocked = try? RepositoryKey.unlock(at: dataDirectory.repository, keys: keys)
            else { return all }
            identity = unlocked
        }
        let index = try RepositoryIndex(contentsOf: indexFile, identity: identity)
        let chunks = Array(index.chunkSet)
        guard try catalog.knownChunks(among: chunks).count == chunks.count else {
            throw .verificationFailed(
                reason: "backup \(record.id): a chunk its index names is in no pack of the repository")
        }
        let names = try catalog.packNames(holding: chunks)
        return all.filter { names.contains($0.name) }
    }

    /// Pack `name`'s path relative to the repository `root`: `.pack.age` when that file is there.
    static func packPath(_ name: String, in root: URL) -> String {
        let sealed = RepositoryLayout.pack(name, encrypted: true)
        return FileOps.exists(root.appendingPathComponent(sealed))
            ? sealed : RepositoryLayout.pack(name, encrypted: false)
    }
}
