import Foundation

extension BackupRecord {
    /// Whether the backup is an incremental one: an index in the local repository (store
    /// `repository`), read back by export, rather than a bundle in a ``BundleStore``.
    var isInRepository: Bool { format == .incremental }
}

extension BackupService {
    /// An exporter of the local repository, its chunks located through the catalog.
    func repositoryExporter(codec: CodecName = .zstd, level: Int = 1) -> RepositoryExporter {
        RepositoryExporter(
            repository: dataDirectory.repository, locator: CatalogChunkLocator(catalog: catalog), codec: codec,
            compressionLevel: level)
    }

    /// The index of incremental backup `record`, read and checked; a missing one is
    /// ``BackupError/verificationFailed(reason:)`` naming it.
    func repositoryIndex(of record: BackupRecord) throws(BackupError) -> RepositoryIndex {
        guard RepositoryLayout.backupID(ofIndex: record.filename) == record.id else {
            throw .verificationFailed(
                reason: "\(record.filename.prefix(80).debugDescription) is not backup \(record.id)'s index")
        }
        guard !record.filename.hasSuffix(".age") else {
            throw .verificationFailed(
                reason: "the index \(record.filename) is encrypted: this version cannot read an encrypted repository")
        }
        return try repositoryExporter().index(of: record.id)
    }

    /// Exports incremental backup `record` as a zstd bundle (level 1, in the clear) into
    /// `backups/.tmp/`, hands it to `body` (a restore's or a verification's reading of it) and
    /// removes it, whatever happens. `progress` gets the bytes of file data exported so far and
    /// the backup's ``RepositoryIndex/logicalBytes``.
    func withExport<T>(
        of record: BackupRecord, progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
        _ body: (ExportedBundle) throws(BackupError) -> T
    ) throws(BackupError) -> T {
        let index = try repositoryIndex(of: record)
        let output = dataDirectory.temporary.appendingPathComponent(
            "export-\(record.id)-\(BackupID.make().suffix(6)).tar.zst")
        defer { FileOps.removeIfPresent(output) }
        let total = index.logicalBytes
        let exported = try repositoryExporter().export(index, to: output) { progress($0, total) }
        return try body(exported)
    }
}
