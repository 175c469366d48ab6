/// The compressed side of a decompressing reader: reads the compressed stream (the bundle file, or
/// the stream decrypted from it) in chunks, shows every compressed byte to `onCompressed` (the
/// bundle hash, progress) and counts them. Shared by the gzip and zstd readers, whose decoders
/// only differ in what they do with each chunk.
final class CompressedInput {
    let source: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private let onCompressed: (UnsafeRawBufferPointer) -> Void
    private(set) var isExhausted = false
    private(set) var bytesRead: Int64 = 0

    init(source: any ByteSource, bufferSize: Int, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.source = source
        self.onCompressed = onCompressed
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next chunk of the file, valid until the next call; nil at its end.
    func next() throws(BackupError) -> UnsafeRawBufferPointer? {
        let count = try source.read(into: buffer)
        if count == 0 {
            isExhausted = true
            return nil
        }
        bytesRead += Int64(count)
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        onCompressed(chunk)
        return chunk
    }

    /// Reads (and shows) the rest of the file, returning how many bytes there were.
    func remainingBytes() throws(BackupError) -> Int64 {
        var count: Int64 = 0
        while let chunk = try next() { count += Int64(chunk.count) }
        return count
    }

    /// Reads what is left without decoding it, so the bundle hash can still be reported after
    /// a decompression failure; a read error ends it quietly.
    func drain() {
        while !isExhausted {
            do { _ = try next() } catch { return }
        }
    }
}
