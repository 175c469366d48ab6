import Foundation

/// Reads a regular file of an incremental backup back from its chunks, in order: each chunk
/// located (``ChunkLocator``), read from its pack and checked against its SHA-256
/// (``PackReader``). The pack being read stays open while consecutive chunks come from it.
///
/// Every failure is ``BackupError/verificationFailed(reason:)`` naming the backup, the file and
/// the chunk: a chunk no pack holds, a missing or unreadable pack, a chunk that does not match
/// its hash, chunks that add up to another size than the file's. Blocking: the job's thread.
final class ChunkedFileReader {
    /// The largest chunk a reader decompresses (the chunkers cut at most 4 MiB).
    static let maximumChunkBytes: Int64 = 64 << 20

    private let repository: URL
    private let locator: any ChunkLocator
    private let files: any RepositoryFiles
    private let backupID: String
    private var openPack: (name: String, file: InputFile)?

    private var path = ""
    private var chunks: [String] = []
    private var next = 0
    private var current: [UInt8] = []
    private var position = 0

    init(repository: URL, locator: any ChunkLocator, files: any RepositoryFiles, backupID: String) {
        self.repository = repository
        self.locator = locator
        self.files = files
        self.backupID = backupID
    }

    /// Starts reading `file` (`path` and its chunk list).
    func begin(_ file: RepositoryIndex.File) {
        path = file.path
        chunks = file.chunks
        next = 0
        current = []
        position = 0
    }

    /// Fills `buffer` with the file's next bytes, crossing chunks; fewer only at the file's end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        var filled = 0
        while filled < buffer.count {
            if position == current.count {
                guard next < chunks.count else { break }
                current = try chunk(chunks[next])
                position = 0
                next += 1
                continue
            }
            let count = min(buffer.count - filled, current.count - position)
            current.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
            }
            filled += count
            position += count
        }
        return filled
    }

    /// Whether every byte of the file's chunks has been read.
    var isAtEnd: Bool { next == chunks.count && position == current.count }

    /// Fails unless the file's chunks hold exactly `size` bytes (call once `size` were read).
    func ensureEnded(size: Int64) throws(BackupError) {
        guard isAtEnd else { throw failure("its chunks hold more than the \(size) bytes the index lists") }
    }

    /// Fails for a file whose chunks ended after `read` of its `size` bytes.
    func shortFailure(read: Int64, size: Int64) -> BackupError {
        failure("its chunks hold \(read) bytes, the index lists \(size)")
    }

    /// The file's SHA-256 differs from the index's.
    func hashFailure(actual: String, expected: String) -> BackupError {
        failure("its SHA-256 is \(actual), the index says \(expected)")
    }

    private func chunk(_ sha256: String) throws(BackupError) -> [UInt8] {
        guard let location = try locator.locate(sha256) else {
            throw failure("chunk \(sha256) is in no pack of the repository")
        }
        let entry = location.entry
        guard entry.rawLength >= 0, entry.rawLength <= Self.maximumChunkBytes, entry.length <= Self.maximumChunkBytes
        else {
            throw failure("chunk \(sha256): its place in pack \(location.pack) is implausible")
        }
        let url = repository.appendingPathComponent(RepositoryLayout.pack(location.pack, encrypted: files.encrypted))
        let reader = PackReader(url: url)
        let file: InputFile
        if let openPack, openPack.name == location.pack {
            file = openPack.file
        } else {
            openPack = nil
            guard FileOps.isRegularFile(url) else {
                throw failure("chunk \(sha256): pack \(location.pack) is missing")
            }
            do throws(BackupError) {
                file = try files.openPack(at: url)
            } catch {
                throw failure("chunk \(sha256): pack \(location.pack) cannot be read (\(error.message))")
            }
            openPack = (location.pack, file)
        }
        do throws(BackupError) {
            return try reader.chunk(entry, in: file)
        } catch .verificationFailed(let reason) {
            throw failure(reason)
        }
    }

    private func failure(_ what: String) -> BackupError {
        .verificationFailed(reason: "backup \(backupID), \(path): \(what)")
    }
}
