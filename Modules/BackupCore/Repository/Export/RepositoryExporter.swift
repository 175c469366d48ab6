import Crypto
import Foundation

/// A classic bundle exported from an incremental backup: where it was written and its checksums.
struct ExportedBundle: Equatable, Sendable {
    var url: URL
    var sizeBytes: Int64
    /// Of the file as written.
    var sha256: String
    /// Its `manifest.json`: the index's manifest.
    var manifest: Manifest
}

/// Writes an incremental backup out as a classic bundle (tar + codec, format 2): the index's
/// entries in their order, with their paths, modes, mtimes and sizes, each regular file's data
/// read back from its chunks (every chunk checked against its hash, every file against the
/// SHA-256 its entry lists), then `manifest.json` (the index's manifest). The result is a bundle
/// like any other, so restore, `verify --read-data`, download and `backup export` read it with
/// ``BundleVerifier`` and the rest of the bundle path.
///
/// Damage (a chunk or pack missing, a chunk that does not match its hash, a file that does not
/// match its entry) is ``BackupError/verificationFailed(reason:)`` naming the backup, the file
/// and the chunk; the partly written file is removed. Blocking: runs on the job's thread.
struct RepositoryExporter {
    /// The repository's root (``DataDirectory/repository``, or a copy elsewhere).
    var repository: URL
    /// Where chunks lie: the catalog (``CatalogChunkLocator``) or the packs' trailers
    /// (``PackTrailerLocator``).
    var locator: any ChunkLocator
    var files: any RepositoryFiles = PlainRepositoryFiles()
    var codec: CodecName = .zstd
    var compressionLevel = 1
    var chunkSize = 256 * 1024

    /// The index of backup `id`, read and checked (``RepositoryIndex/read(at:files:expectedID:)``).
    func index(of id: String) throws(BackupError) -> RepositoryIndex {
        let url = repository.appendingPathComponent(RepositoryLayout.index(id, encrypted: files.encrypted))
        return try RepositoryIndex.read(at: url, files: files, expectedID: id)
    }

    /// Writes `index`'s backup as a bundle at `output` (created: it must not exist), synced to
    /// disk. `progress` gets the bytes of file data written so far (of the index's
    /// ``RepositoryIndex/logicalBytes``).
    ///
    /// With `locked`, the file holds a `flock` while it is written (a job starting meanwhile
    /// leaves a locked `download-…` file of `.tmp/` alone).
    func export(
        _ index: RepositoryIndex, to output: URL, locked: Bool = false, progress: (Int64) -> Void = { _ in }
    ) throws(BackupError) -> ExportedBundle {
        let manifest = index.manifest
        let file = try OutputFile(creating: output)
        if locked { _ = file.lock() }
        var done = false
        defer { if !done { FileOps.removeIfPresent(output) } }
        var hash = SHA256()
        let compressor = try codec.codec.writer(level: compressionLevel) { (bytes) throws(BackupError) in
            hash.update(bufferPointer: bytes)
            try file.write(bytes)
        }
        let sink = BundleEntrySink(bundleTime: manifest.createdAt, chunkSize: chunkSize) {
            (bytes) throws(BackupError) in try compressor.write(bytes)
        }
        let reader = ChunkedFileReader(
            repository: repository, locator: locator, files: files, backupID: manifest.id)
        var chunkLists = index.files.makeIterator()
        var written: Int64 = 0
        for entry in manifest.entries {
            if Task.isCancelled { throw .cancelled }
            switch entry.type {
            case .directory:
                try sink.addDirectory(entry.path, mode: entry.mode ?? 0o755, mtime: entry.mtime)
            case .symlink:
                try sink.addSymlink(entry.path, target: entry.target ?? "", mtime: entry.mtime)
            case .file:
                // ``RepositoryIndex/read(at:files:expectedID:)`` checked that the lists follow the files.
                guard let chunks = chunkLists.next(), chunks.path == entry.path else {
                    throw .verificationFailed(
                        reason: "backup \(manifest.id), \(entry.path): the index lists no chunks for it")
                }
                try exportFile(entry, chunks: chunks, reader: reader, into: sink) { progress(written + $0) }
                written += entry.size
            }
        }
        try sink.finish(manifest: try manifest.encoded())
        try compressor.finish()
        try file.sync()
        file.close()
        done = true
        return ExportedBundle(
            url: output, sizeBytes: file.bytesWritten, sha256: hash.finalize().hexString, manifest: manifest)
    }

    /// Writes one regular file from its chunks and checks it against its entry.
    private func exportFile(
        _ entry: Manifest.Entry, chunks: RepositoryIndex.File, reader: ChunkedFileReader, into sink: BundleEntrySink,
        progress: (Int64) -> Void
    ) throws(BackupError) {
        reader.begin(chunks)
        var read: Int64 = 0
        try sink.addFile(
            size: entry.size, as: entry.path, mode: entry.mode ?? 0o644, mtime: entry.mtime, progress: progress
        ) { (buffer, _) throws(BackupError) in
            let count = try reader.read(into: buffer)
            read += Int64(count)
            if count < buffer.count { throw reader.shortFailure(read: read, size: entry.size) }
            return count
        }
        try reader.ensureEnded(size: entry.size)
        let actual = sink.entries.last?.sha256 ?? ""
        if let expected = entry.sha256, actual != expected {
            throw reader.hashFailure(actual: actual, expected: expected)
        }
    }
}
