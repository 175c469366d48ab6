import CZstd
import Foundation

/// Pulls decompressed bytes out of a zstd file, one frame, and refuses what is not exactly that:
/// corrupt data, a wrong content checksum, a truncated frame, or bytes after the frame.
final class ZstdReader: DecompressingReader {
    private let input: CompressedInput
    private let stream: OpaquePointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var ended = false
    var compressedBytesRead: Int64 { input.bytesRead }
    private var inputExhausted: Bool { input.isExhausted }

    /// - Parameter onCompressed: sees every compressed byte read from `source`, in order.
    init(
        source: any ByteSource, bufferSize: Int = 1 << 20, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    )
        throws(BackupError)
    {
        guard let stream = ZSTD_createDStream() else {
            throw .io(path: "zstd", reason: "cannot create a zstd decompression context")
        }
        self.stream = stream
        input = CompressedInput(source: source, bufferSize: bufferSize, onCompressed: onCompressed)
    }

    deinit {
        ZSTD_freeDStream(stream)
    }

    /// Fills as much of `buffer` as the frame allows; returns 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard !ended, buffer.count > 0 else { return 0 }
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos < out.size {
            if inBuffer.pos == inBuffer.size && !inputExhausted { try refill() }
            let produced = out.pos
            let result = ZSTD_decompressStream(stream, &out, &inBuffer)
            if ZSTD_isError(result) != 0 {
                let detail = String(cString: ZSTD_getErrorName(result))
                throw .verificationFailed(reason: "the zstd stream is corrupt (\(detail))")
            }
            if result == 0 {
                ended = true
                try ensureNothingFollows()
                return out.pos
            }
            if inputExhausted && inBuffer.pos == inBuffer.size && out.pos == produced {
                throw .verificationFailed(reason: "the zstd stream is truncated")
            }
        }
        return out.pos
    }

    func drain() { input.drain() }

    private func refill() throws(BackupError) {
        guard let chunk = try input.next() else {
            inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            return
        }
        inBuffer = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
    }

    private func ensureNothingFollows() throws(BackupError) {
        let trailing = Int64(inBuffer.size - inBuffer.pos) + (try input.remainingBytes())
        if trailing > 0 {
            throw .verificationFailed(reason: "\(trailing) unexpected bytes follow the zstd frame")
        }
    }
}
