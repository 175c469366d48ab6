import CZstd
import Foundation

/// Pulls decompressed bytes out of a zstd file, one frame, and refuses what is not exactly that:
/// corrupt data, a wrong content checksum, a truncated frame, or bytes after the frame.
final class ZstdReader: DecompressingReader {
    private let file: InputFile
    private let stream: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private let onCompressed: (UnsafeRawBufferPointer) -> Void
    private var inputExhausted = false
    private(set) var compressedBytesRead: Int64 = 0
    private var ended = false

    /// - Parameter onCompressed: sees every compressed byte read from the file, in order.
    init(
        file: InputFile, bufferSize: Int = 1 << 20, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    )
        throws(BackupError)
    {
        guard let stream = ZSTD_createDStream() else {
            throw .io(path: file.url.path, reason: "cannot create a zstd decompression context")
        }
        self.file = file
        self.stream = stream
        self.onCompressed = onCompressed
        input = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
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

    func drain() {
        while !inputExhausted {
            do { try refill() } catch { return }
        }
    }

    private func refill() throws(BackupError) {
        let count = try file.read(into: input)
        if count == 0 {
            inputExhausted = true
            inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            return
        }
        compressedBytesRead += Int64(count)
        onCompressed(UnsafeRawBufferPointer(rebasing: input[0..<count]))
        inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: count, pos: 0)
    }

    private func ensureNothingFollows() throws(BackupError) {
        var trailing = Int64(inBuffer.size - inBuffer.pos)
        while !inputExhausted {
            try refill()
            trailing += Int64(inBuffer.size)
        }
        if trailing > 0 {
            throw .verificationFailed(reason: "\(trailing) unexpected bytes follow the zstd frame")
        }
    }
}
