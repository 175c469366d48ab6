import CZstd
import Crypto
import Foundation

/// Writes one pack file: chunks appended as zstd frames, then the trailer. The pack's name is
/// the SHA-256 of its bytes as stored, known once ``finish()`` has written the last byte.
///
/// Blocking: runs on the job's thread.
final class PackWriter {
    private let file: OutputFile
    private let level: Int32
    private var hash = SHA256()
    private(set) var entries: [PackEntry] = []
    private var buffer: [UInt8] = []

    /// Creates `partial` (which must not exist) and writes the magic line.
    init(partial: URL, level: Int) throws(BackupError) {
        file = try OutputFile(creating: partial)
        self.level = Int32(level)
        try write(PackFormat.magic)
    }

    /// Bytes written so far: a caller seals the pack once it reaches its target size.
    var size: Int64 { file.bytesWritten }

    /// Compresses `chunk` into one zstd frame and appends it under `sha256` (the caller's hash
    /// of the chunk, hex).
    func add(_ chunk: UnsafeRawBufferPointer, sha256: String) throws(BackupError) {
        let bound = ZSTD_compressBound(chunk.count)
        if buffer.count < bound { buffer = [UInt8](repeating: 0, count: bound) }
        let written = buffer.withUnsafeMutableBytes { output in
            ZSTD_compress(output.baseAddress, output.count, chunk.baseAddress, chunk.count, level)
        }
        if ZSTD_isError(written) != 0 {
            throw .io(
                path: file.url.path, reason: "compression failed (\(String(cString: ZSTD_getErrorName(written))))")
        }
        let offset = file.bytesWritten
        try write(Array(buffer[..<written]))
        entries.append(
            PackEntry(sha256: sha256, offset: offset, length: Int64(written), rawLength: Int64(chunk.count)))
    }

    /// Writes the trailer and its length, makes the file durable (fsync) and closes it. Returns
    /// the pack's name: the SHA-256 (hex) of every byte written.
    func finish() throws(BackupError) -> String {
        let trailer: Data
        do {
            trailer = try JSONEncoder().encode(PackTrailer(version: PackFormat.version, chunks: entries))
        } catch {
            throw .io(path: file.url.path, reason: "cannot encode the pack's trailer: \(error)")
        }
        try write([UInt8](trailer))
        let length = UInt64(trailer.count).bigEndian
        try write(withUnsafeBytes(of: length) { [UInt8]($0) })
        try file.sync()
        file.close()
        return hash.finalize().hexString
    }

    private func write(_ bytes: [UInt8]) throws(BackupError) {
        hash.update(data: bytes)
        try file.write(bytes)
    }
}
