import Foundation

extension BackupService {
    /// The off-site store, or ``BackupError`` when off-site copies are off or incomplete.
    func remoteStore() throws(BackupError) -> S3Store {
        guard let target = try offsiteTarget() else {
            throw .invalidInput(fields: ["offsite.enabled": "off-site copies are off"])
        }
        return S3Store(target: target, temporary: dataDirectory.temporary)
    }

    /// Every backup under the bucket's prefix, newest first, reading every page of the listing:
    /// the bundles, and the incremental backups whose index is in the bucket's repository
    /// (``RemoteRepository/indexes(with:known:)``); objects that are neither are ignored (a
    /// shared bucket).
    public func remoteBackups() async throws(BackupError) -> [RemoteBackup] {
        let remote = try remoteStore()
        let records = try catalog.allRecords()
        let known = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let (bundles, indexes) = try await remote.withClient {
            (client) async throws(BackupError) -> ([StoredBundle], [RemoteBackup]) in
            (
                try await remote.list(with: client),
                try await RemoteRepository(store: remote).indexes(with: client, known: known)
            )
        }
        let localIDs = Set(records.filter { $0.store == localStore.name }.map(\.id))
        let repositoryIDs = Set(records.filter { $0.store == RepositoryLayout.storeName }.map(\.id))
        let listed: [RemoteBackup] = bundles.compactMap { bundle in
            guard let parts = BundleName.parse(bundle.key) else { return nil }
            return RemoteBackup(
                id: parts.id, type: parts.type, createdAt: parts.createdAt, filename: bundle.key,
                key: remote.objectKey(bundle.key), sizeBytes: bundle.sizeBytes, local: localIDs.contains(parts.id))
        }
        let incremental = indexes.map { index in
            var index = index
            index.local = repositoryIDs.contains(index.id)
            return index
        }
        return (listed + incremental).sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// Records the bucket's backups this catalog does not know as remote-only backups
    /// (`store = "s3"`, `completed`, off-site copy `uploaded`), so they list, verify, download
    /// and restore like any other: a new machine's way back. A bundle's SHA-256 comes from its
    /// sidecar (a bundle without a readable one is skipped: an upload in progress, or not ours);
    /// an incremental backup's (its index's) from its index object's metadata, and its record
    /// has format `incremental` and the index's file name (skipped without a SHA-256). Returns
    /// the backups recorded.
    @discardableResult
    public func syncRemoteCatalog() async throws(BackupError) -> [BackupInfo] {
        let remote = try remoteStore()
        let (backups, known) = (try await remoteBackups(), Set(try catalog.allRecords().map(\.id)))
        let unknown = backups.filter { !known.contains($0.id) }
        guard !unknown.isEmpty else { return [] }
        let bundles = unknown.filter { $0.format == .bundle }
        let sidecars = try await remote.withClient { (client) async throws(BackupError) -> [String: String] in
            var found: [String: String] = [:]
            for bundle in bundles {
                let sidecarKey = remote.objectKey(BundleName.sidecar(for: bundle.filename))
                guard try await client.head(key: sidecarKey) != nil else { continue }
                found[bundle.id] = S3Store.checksum(in: try await client.get(key: sidecarKey, range: nil))
            }
            return found
        }
        var recorded: [BackupInfo] = []
        for backup in unknown {
            guard let sha256 = backup.format == .bundle ? sidecars[backup.id] : backup.sha256 else { continue }
            let now = self.now()
            var record = BackupRecord(
                id: backup.id, type: backup.type, createdAt: backup.createdAt, note: nil,
                recordedAt: min(backup.createdAt, now))
            record.filename = backup.filename
            record.store = S3Store.storeName
            record.status = .completed
            record.sizeBytes = backup.sizeBytes
            record.sha256 = sha256
            record.completedAt = backup.createdAt
            record.offsiteStatus = .uploaded
            record.offsiteKey = backup.key
            record.offsiteUploadedAt = now
            record.format = backup.format
            record.logicalBytes = backup.logicalBytes
            do throws(BackupError) {
                try catalog.insert(record)
                recorded.append(record.info)
            } catch {
                // Recorded meanwhile by another process (a CLI beside the server): nothing to do.
                if (try? catalog.record(id: record.id)) == nil { throw error }
            }
        }
        return recorded
    }

    /// Local retention's step for a backup whose off-site copy is uploaded: its record becomes
    /// remote-only (`store = "s3"`) first, then its local bundle and sidecar are removed. A crash
    /// in between leaves a local file the record no longer claims, which is never adopted (its
    /// name is known).
    ///
    /// An incremental backup loses its index in the local repository the same way
    /// (``deleteRepositoryIndex(of:)``); the packs only it used go with the garbage collection
    /// that follows retention, and ``pull(id:progress:)`` brings it back.
    func dropLocalCopy(of record: BackupRecord) throws(BackupError) {
        var remoteOnly = record
        remoteOnly.store = S3Store.storeName
        try catalog.update(remoteOnly)
        do throws(BackupError) {
            if record.store == RepositoryLayout.storeName {
                try deleteRepositoryIndex(of: record)
            } else {
                try localStore.delete(record.filename)
            }
        } catch {
            try? catalog.update(record)
            throw error
        }
    }

    /// Fetches a remote-only backup into `backups/` (download with streaming SHA-256, checked
    /// against the record and the sidecar, then the local store's durable put) and makes its
    /// record local again; an incremental backup into the local repository
    /// (``pullRepositoryBackup(_:progress:)``: its index and only the packs the repository
    /// lacks). A backup already local is left as it is.
    @discardableResult
    public func pull(
        id: String, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        let lease = try beginJob()
        defer { lease.release() }
        var record = try catalog.record(id: id)
        guard record.store == S3Store.storeName else { return record.info }
        try record.ensure(.download)
        try lease.use(id, for: .restore, at: now())
        if record.isInRepository {
            return try await pullRepositoryBackup(record, progress: progress).record.info
        }
        let remote = try remoteStore()
        let partial = dataDirectory.temporary.appendingPathComponent("\(record.filename).partial")
        defer { FileOps.removeIfPresent(partial) }
        let (objectKey, total) = (remote.objectKey(record.filename), record.sizeBytes ?? 0)
        let (_, sha256) = try await remote.withClient { (client) async throws(BackupError) in
            try await client.download(key: objectKey, to: partial) { done in
                progress(JobProgress(backupID: id, phase: .download, doneBytes: done, totalBytes: total))
            }
        }
        guard sha256 == record.sha256 else {
            throw .verificationFailed(
                reason: "the downloaded bundle's SHA-256 is \(sha256), the catalog says \(record.sha256 ?? "nothing")")
        }
        try localStore.put(partial: partial, sha256: sha256, as: record.filename)
        record.store = localStore.name
        try catalog.update(record)
        return record.info
    }
}

extension BackupService {
    /// A presigned `GET` of a remote-only backup's bundle, valid for `expires`: a download
    /// redirected to the bucket instead of streamed through this process. Only completed
    /// backups whose bundle is in the bucket alone.
    public func presignedDownload(
        of record: BackupRecord, expires: Duration = .seconds(15 * 60)
    ) async throws(BackupError) -> URL {
        try record.ensure(.download)
        guard record.format == .bundle else {
            throw .invalidInput(fields: [
                "id": "backup \(record.id) is incremental: it has no bundle in the bucket to link to"
            ])
        }
        let remote = try remoteStore()
        let (key, now) = (remote.objectKey(record.filename), self.now())
        return try await remote.withClient { (client) async throws(BackupError) in
            try client.presignedGet(key: key, expires: expires, now: now)
        }
    }
}
