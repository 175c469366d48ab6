import Foundation

extension BackupRecord {
    /// Whether the backup is an incremental one: an index in the local repository (store
    /// `repository`), read back by export, rather than a bundle in a ``BundleStore``.
    var isInRepository: Bool { format == .incremental }
}

extension BackupService {
    /// An exporter of incremental backup `record` from the local repository: its chunks located
    /// through the catalog; an encrypted repository's files (the index's name ends in `.age`)
    /// opened with the repository's key, itself opened with the bundle keys (no key, or none
    /// that opens it, is thrown as a bundle's would be).
    func repositoryExporter(
        for record: BackupRecord, codec: CodecName = .zstd, level: Int = 1
    ) throws(BackupError) -> RepositoryExporter {
        RepositoryExporter(
            repository: dataDirectory.repository, locator: CatalogChunkLocator(catalog: catalog),
            files: try repositoryFiles(encrypted: record.filename.hasSuffix(BundleName.encryptedExtension)),
            codec: codec, compressionLevel: level)
    }

    /// How the local repository's files open: as they are, or decrypted with its key.
    func repositoryFiles(encrypted: Bool) throws(BackupError) -> any RepositoryFiles {
        guard encrypted else { return PlainRepositoryFiles() }
        let keys = try bundleKeys()
        let loaded = try keys.load()
        guard !loaded.isEmpty else { throw keys.noKeyFailure }
        let identity = try RepositoryKey.unlock(at: dataDirectory.repository, keys: loaded)
        return AgeRepositoryFiles(identity: identity, temporary: dataDirectory.temporary)
    }

    /// The index of incremental backup `record`, read with `exporter` and checked; a missing
    /// one is ``BackupError/verificationFailed(reason:)`` naming it.
    func repositoryIndex(
        of record: BackupRecord, with exporter: RepositoryExporter
    ) throws(BackupError)
        -> RepositoryIndex
    {
        guard RepositoryLayout.backupID(ofIndex: record.filename) == record.id else {
            throw .verificationFailed(
                reason: "\(record.filename.prefix(80).debugDescription) is not backup \(record.id)'s index")
        }
        return try exporter.index(of: record.id)
    }

    /// Exports incremental backup `record` as a zstd bundle (level 1, in the clear) into
    /// `backups/.tmp/`, hands it to `body` (a restore's or a verification's reading of it) and
    /// removes it, whatever happens. `progress` gets the bytes of file data exported so far and
    /// the backup's ``RepositoryIndex/logicalBytes``.
    func withExport<T>(
        of record: BackupRecord, progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
        _ body: (ExportedBundle) throws(BackupError) -> T
    ) throws(BackupError) -> T {
        let exporter = try repositoryExporter(for: record)
        let index = try repositoryIndex(of: record, with: exporter)
        let output = dataDirectory.temporary.appendingPathComponent(
            "export-\(record.id)-\(BackupID.make().suffix(6)).tar.zst")
        defer { FileOps.removeIfPresent(output) }
        let total = index.logicalBytes
        let exported = try exporter.export(index, to: output) { progress($0, total) }
        return try body(exported)
    }
}
