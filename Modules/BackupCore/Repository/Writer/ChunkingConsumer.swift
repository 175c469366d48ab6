import Foundation

/// The ``BundleEntryConsumer`` of an incremental backup: cuts each regular file into chunks
/// (``FileChunker``), hands them to the ``ChunkPacker`` and keeps each file's ordered chunk
/// hashes for the index. A later copy of a file (superseding) replaces the earlier copy's list.
///
/// Blocking: runs on the writer's thread.
final class ChunkingConsumer: BundleEntryConsumer {
    private let packer: ChunkPacker
    /// The regular file being written: its path, chunker and chunk hashes so far.
    private var current: (path: String, chunker: FileChunker, chunks: [String])?
    /// Every regular file's chunk list, by path (a superseding copy overwrites).
    private(set) var files: [String: RepositoryIndex.File] = [:]

    init(packer: ChunkPacker) {
        self.packer = packer
    }

    func begin(_ entry: TarEntry, superseding: Bool) throws(BackupError) {
        guard entry.type == .file else {
            current = nil
            return
        }
        let chunking = FileChunker.chunking(for: entry.path, size: entry.size)
        current = (entry.path, FileChunker(chunking), [])
    }

    func data(_ piece: UnsafeRawBufferPointer) throws(BackupError) {
        guard var file = current else { throw .io(path: "repository", reason: "data outside a regular file") }
        current = nil
        let packer = packer
        try file.chunker.add(piece) { (chunk) throws(BackupError) in file.chunks.append(try packer.add(chunk)) }
        current = file
    }

    func end(_ entry: Manifest.Entry) throws(BackupError) {
        guard entry.type == .file else { return }
        guard var file = current, file.path == entry.path else {
            throw .io(path: entry.path, reason: "ended without having begun")
        }
        current = nil
        let packer = packer
        try file.chunker.finish { (chunk) throws(BackupError) in file.chunks.append(try packer.add(chunk)) }
        files[entry.path] = RepositoryIndex.File(path: entry.path, chunking: file.chunker.chunking, chunks: file.chunks)
    }
}
