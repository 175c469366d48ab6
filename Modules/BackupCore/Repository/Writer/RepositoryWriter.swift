import Crypto
import Foundation

/// What an incremental backup wrote: its index and what it added to the repository.
public struct WrittenIncremental: Sendable, Equatable {
    /// The index's file name in `index/` (the record's `filename`).
    public var filename: String
    /// Bytes this backup added: its new packs and its index.
    public var sizeBytes: Int64
    /// The SHA-256 of the index file as stored.
    public var sha256: String
    public var manifest: Manifest
    /// Bytes the backup restores to: the sum of its entries' sizes.
    public var logicalBytes: Int64
    /// The packs it placed, by name.
    public var packs: [String]
    /// Chunks its files were cut into, and those new to the repository.
    public var chunks: Int
    public var newChunks: Int
}

/// Writes a backup's sources into the incremental repository at `root`: the same sources, the
/// same entries a bundle would hold (``BundleEntrySink`` with a ``ChunkingConsumer``), each
/// regular file cut into chunks (``FileChunker``), only the chunks the repository lacks stored
/// in new packs (``ChunkPacker``), then the index (``RepositoryIndex``) written atomically: in
/// `.tmp/`, fsynced, renamed into `index/`, the folder fsynced. The index is written only once
/// every chunk it names has its row (its pack durable), so its presence means the backup is
/// complete. `config.json` is made on first use.
///
/// On failure or cancel the open pack's partial file and the partial index are removed; packs
/// already sealed stay (their rows are in: the next backup reuses their chunks, prune removes
/// what no index needs).
///
/// Blocking: runs on the job's thread, which reads the sources and hashes each file whole, and on
/// a thread of its own (``PipelinedConsumer``) that chunks, hashes, looks up and compresses:
/// both stay off the cooperative pool.
struct RepositoryWriter {
    var compressionLevel: Int
    /// The operator's lock (encryption on): the repository is then encrypted, its packs and
    /// indexes age files to its own recipient (``RepositoryCipher``). Nil: in the clear.
    var lock: AgeLock? = nil
    /// The size at which a pack is sealed.
    var packTarget = ChunkPacker.packTarget
    /// Called after each pack is sealed and recorded (tests inject a failure).
    var afterPack: @Sendable (Int) throws(BackupError) -> Void = { _ in }

    /// Writes `sources` as backup `template.id`; `progress` gets the bytes of source data read.
    func write(
        sources: [any BackupSource], manifest template: Manifest, root: URL, temporary: URL, catalog: Catalog,
        now: @escaping @Sendable () -> Date, progress: (Int64) -> Void
    ) throws(BackupError) -> WrittenIncremental {
        let config = try RepositoryConfig.ensure(at: root, temporary: temporary, now: now(), lock: lock)
        let repositoryLock = try config.lock()
        let encrypted = repositoryLock != nil
        let id = template.id
        let packer = ChunkPacker(
            root: root, temporary: temporary, catalog: catalog, backupID: id, level: compressionLevel,
            lock: repositoryLock, packTarget: packTarget, now: now, afterPack: afterPack)
        let partialIndex = temporary.appendingPathComponent("index-\(id).json.zst.partial")
        let consumer = ChunkingConsumer(packer: packer)
        let pipeline = PipelinedConsumer(consumer)
        do throws(BackupError) {
            let sink = BundleEntrySink(bundleTime: template.createdAt, consumer: pipeline)
            let manifest = try sink.write(sources, into: template, progress: progress)
            try pipeline.finish()
            try packer.finish()
            let files = manifest.entries.filter { $0.type == .file }.map { entry in
                consumer.files[entry.path]
                    ?? RepositoryIndex.File(
                        path: entry.path, chunking: FileChunker.chunking(for: entry.path, size: 0), chunks: [])
            }
            let index = RepositoryIndex(manifest: manifest, files: files)
            var bytes = try index.fileBytes()
            if let repositoryLock { bytes = try RepositoryCipher.seal(bytes, lock: repositoryLock) }
            let filename = RepositoryLayout.indexFilename(id, encrypted: encrypted)
            try Self.place(
                bytes, partial: partialIndex,
                as: root.appendingPathComponent(RepositoryLayout.index(id, encrypted: encrypted)), root: root)
            return WrittenIncremental(
                filename: filename, sizeBytes: packer.packBytes + Int64(bytes.count),
                sha256: SHA256.hash(data: bytes).hexString, manifest: manifest, logicalBytes: index.logicalBytes,
                packs: packer.packs, chunks: packer.chunksSeen, newChunks: packer.chunksStored)
        } catch {
            pipeline.stop()
            packer.abandon()
            FileOps.removeIfPresent(partialIndex)
            throw error
        }
    }

    /// Writes `bytes` to `partial`, fsyncs it and renames it to `destination` (which must not
    /// exist), then fsyncs the folder.
    static func place(_ bytes: [UInt8], partial: URL, as destination: URL, root: URL) throws(BackupError) {
        FileOps.removeIfPresent(partial)
        let file = try OutputFile(creating: partial)
        try file.write(bytes)
        try file.sync()
        file.close()
        let folder = destination.deletingLastPathComponent()
        try RepositoryFolders.make(folder, below: root)
        guard !FileOps.exists(destination) else {
            FileOps.removeIfPresent(partial)
            throw .io(path: destination.path, reason: "already exists in the repository")
        }
        try FileOps.rename(partial, to: destination)
        try FileOps.fsyncDirectory(folder)
    }
}
