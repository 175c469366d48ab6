import CZlib
import Foundation

/// Pulls decompressed bytes out of a gzip file, one member, and refuses what is not exactly that:
/// corrupt deflate data, a truncated stream, or bytes after the trailer.
final class GzipReader {
    private let file: InputFile
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private let onCompressed: (UnsafeRawBufferPointer) -> Void
    private var inputExhausted = false
    private(set) var compressedBytesRead: Int64 = 0
    private var ended = false

    /// - Parameter onCompressed: sees every compressed byte read from the file, in order
    ///   (the bundle hash is computed there).
    init(
        file: InputFile, bufferSize: Int = 256 * 1024, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    )
        throws(BackupError)
    {
        self.file = file
        self.onCompressed = onCompressed
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: bufferSize, alignment: 16)
        let rc = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            input.deallocate()
            stream.deallocate()
            throw .io(path: file.url.path, reason: "cannot start inflate (zlib error \(rc))")
        }
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
    func drain() {
        while !inputExhausted {
            do { try refill() } catch { return }
        }
    }

    private func refill() throws(BackupError) {
        let count = try file.read(into: input)
        if count == 0 {
            inputExhausted = true
            stream.pointee.avail_in = 0
            return
        }
        compressedBytesRead += Int64(count)
        let chunk = UnsafeRawBufferPointer(rebasing: input[0..<count])
        onCompressed(chunk)
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(count)
    }

    private func ensureNothingFollows() throws(BackupError) {
        var trailing = Int64(stream.pointee.avail_in)
        while !inputExhausted {
            try refill()
            trailing += Int64(stream.pointee.avail_in)
        }
        if trailing > 0 {
            throw .verificationFailed(reason: "\(trailing) unexpected bytes follow the gzip stream")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }
}
