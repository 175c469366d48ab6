import Crypto
import Foundation

extension BackupService {
    /// Brings the catalog's incremental backups and the repository's `index/` into agreement; the
    /// caller holds the job lock. The index is the backup:
    ///
    /// - a completed record whose index vanished becomes `missing`; a missing one whose index is
    ///   back (and is this backup's, every chunk of it in a pack) `completed` again;
    /// - a record that did not end `completed` although its index is in place (the process died
    ///   between the index's rename and the record's update) becomes `completed`; its size is then
    ///   its index's alone (what its packs added is no longer known), and its off-site copy is
    ///   queued (`pending`) when off-site copies are on, as the job would have done;
    /// - an index with no record whose chunks are all in packs is adopted (type `imported`, as an
    ///   unrecorded bundle is), so it can be restored or deleted.
    ///
    /// An index that does not read as its backup's (damaged, or encrypted with no key here to open
    /// it) is left as it is. Nothing inside `repository/` is ever a bundle or a stray.
    func reconcileRepositoryRecords(_ all: [BackupRecord], into report: inout ReconcileReport) throws(BackupError) {
        let folder = dataDirectory.repository.appendingPathComponent(RepositoryLayout.indexFolder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        let present = Set(names.filter { RepositoryLayout.backupID(ofIndex: $0) != nil })
        var reader = IndexReading(service: self)
        for record in all where record.store == RepositoryLayout.storeName {
            let file = folder.appendingPathComponent(record.filename)
            switch (record.status, present.contains(record.filename)) {
            case (.completed, false):
                var missing = record
                missing.status = .missing
                missing.error = "the index file \(record.filename) has vanished from the repository"
                try catalog.update(missing)
                report.missing.append(record.id)
            case (.missing, true):
                // Back only when every chunk has a row again: garbage collection marks a backup
                // missing when a pack it needs is gone, its index still there (repo-gc's rule).
                guard let index = reader.index(at: file), index.manifest.id == record.id,
                    try allChunksKnown(index)
                else { continue }
                var back = record
                back.status = .completed
                back.error = nil
                try catalog.update(back)
            case (let status, true) where status != .completed:
                guard let index = reader.index(at: file), index.manifest.id == record.id else { continue }
                var completed = record
                completed.complete(from: index, file: file, at: record.completedAt ?? now())
                // The upload a completed job would have queued (the process died before the record said so).
                if completed.offsiteStatus == .none { completed.offsiteStatus = initialOffsiteStatus() }
                try catalog.update(completed)
                report.recovered.append(record.id)
            default: continue
            }
        }
        let known = Set(all.map(\.id))
        for name in present {
            guard let id = RepositoryLayout.backupID(ofIndex: name), !known.contains(id) else { continue }
            let file = folder.appendingPathComponent(name)
            guard let index = reader.index(at: file), index.manifest.id == id, try allChunksKnown(index) else {
                continue
            }
            var record = BackupRecord(
                id: id, type: .imported, createdAt: index.manifest.createdAt, note: nil, recordedAt: now())
            record.complete(from: index, file: file, at: now())
            try catalog.insert(record)
            report.adopted.append(id)
        }
    }
}

extension BackupService {
    /// Whether every chunk `index` names has a row (its pack durable in the repository).
    fileprivate func allChunksKnown(_ index: RepositoryIndex) throws(BackupError) -> Bool {
        let chunks = index.chunkSet
        return try catalog.knownChunks(among: Array(chunks)).count == chunks.count
    }
}

/// Reads indexes for reconciliation, opening the repository's key once, when the first
/// encrypted index is met (with the keys a bundle is opened with).
private struct IndexReading {
    let service: BackupService
    private var identity: AgeIdentity??

    init(service: BackupService) {
        self.service = service
    }

    /// The index at `file`, or nil when it cannot be read.
    mutating func index(at file: URL) -> RepositoryIndex? {
        if file.lastPathComponent.hasSuffix(".age"), identity == nil {
            identity = .some(
                try? RepositoryKey.unlock(
                    at: service.dataDirectory.repository, keys: (try? service.bundleKeys().load()) ?? []))
        }
        return try? RepositoryIndex(contentsOf: file, identity: identity ?? nil)
    }
}

extension BackupRecord {
    /// Makes the record a completed incremental backup whose index `index` is the file `file`
    /// (its size is the record's: what its packs added is not known here).
    fileprivate mutating func complete(from index: RepositoryIndex, file: URL, at date: Date) {
        format = .incremental
        store = RepositoryLayout.storeName
        filename = file.lastPathComponent
        status = .completed
        error = nil
        sizeBytes = FileOps.size(of: file)
        logicalBytes = index.logicalBytes
        sha256 = (try? Data(contentsOf: file)).map { SHA256.hash(data: $0).hexString }
        completedAt = date
        describe(index.manifest)
        doneBytes = totalBytes
    }
}
