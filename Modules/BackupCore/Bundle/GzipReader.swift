import CZlib
import Foundation

/// Pulls decompressed bytes out of a gzip file, one member, and refuses what is not exactly that:
/// corrupt deflate data, a truncated stream, or bytes after the trailer.
final class GzipReader {
    private let input: CompressedInput
    private let stream: UnsafeMutablePointer<z_stream>
    private var ended = false
    var compressedBytesRead: Int64 { input.bytesRead }
    private var inputExhausted: Bool { input.isExhausted }

    /// - Parameter onCompressed: sees every compressed byte read from `source`, in order
    ///   (the bundle hash of a plain bundle is computed there).
    init(
        source: any ByteSource, bufferSize: Int = 256 * 1024,
        onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    )
        throws(BackupError)
    {
        input = CompressedInput(source: source, bufferSize: bufferSize, onCompressed: onCompressed)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            throw .io(path: "zlib", reason: "cannot start inflate (zlib error \(rc))")
        }
    }

    /// A reader of the gzip file `file` itself.
    convenience init(file: InputFile, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void) throws(BackupError) {
        try self.init(source: file, onCompressed: onCompressed)
    }

    /// Fills as much of `buffer` as the stream allows; returns 0 at the end of the gzip member.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard !ended, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(buffer.count)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputExhausted {
                try refill()
            }
            let rc = inflate(stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                ended = true
                try ensureNothingFollows()
                return buffer.count - Int(stream.pointee.avail_out)
            case Z_BUF_ERROR where inputExhausted:
                throw .verificationFailed(reason: "the gzip stream is truncated")
            case Z_BUF_ERROR:
                continue
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw .verificationFailed(reason: "the gzip stream is corrupt (\(detail))")
            }
        }
        return buffer.count
    }

    /// Reads and hashes what is left of the file without inflating it, so the bundle hash
    /// can still be reported after a decompression failure.
    func drain() { input.drain() }

    private func refill() throws(BackupError) {
        guard let chunk = try input.next() else {
            stream.pointee.avail_in = 0
            return
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(chunk.count)
    }

    private func ensureNothingFollows() throws(BackupError) {
        let trailing = Int64(stream.pointee.avail_in) + (try input.remainingBytes())
        if trailing > 0 {
            throw .verificationFailed(reason: "\(trailing) unexpected bytes follow the gzip stream")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }
}
