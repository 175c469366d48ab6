import CZlib

/// Streams bytes through zlib's deflate into one gzip member, handing each compressed chunk
/// to `sink` as it is produced. Memory stays at the two fixed buffers whatever the input size.
final class GzipWriter {
    typealias Sink = (UnsafeRawBufferPointer) throws(BackupError) -> Void

    private let stream: UnsafeMutablePointer<z_stream>
    /// zlib reads the header while writing the first bytes, so it lives as long as the stream.
    private let header: UnsafeMutablePointer<gz_header>
    private let output: UnsafeMutableRawBufferPointer
    private let sink: Sink
    private var finished = false

    /// - Parameter level: 0 (store) to 9 (smallest); 1 is fastest.
    init(level: Int, bufferSize: Int = 256 * 1024, sink: @escaping Sink) throws(BackupError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        output = .allocate(byteCount: bufferSize, alignment: 16)
        self.sink = sink
        // windowBits 15 + 16 asks zlib for a gzip header and trailer.
        let rc = deflateInit2_(
            stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            output.deallocate()
            header.deallocate()
            stream.deallocate()
            throw .io(path: "gzip", reason: "cannot start deflate (zlib error \(rc))")
        }
        // A header CRC (FHCRC): zlib checks it on reading, so damage to the header's time, flags
        // or OS byte is detected even where no recorded SHA-256 is at hand (an import).
        header.pointee.hcrc = 1
        header.pointee.os = 3
        deflateSetHeader(stream, header)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        guard bytes.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        repeat {
            try deflateStep(flush: Z_NO_FLUSH)
        } while stream.pointee.avail_in > 0
    }

    func write(_ bytes: [UInt8]) throws(BackupError) {
        try bytes.withBytes { (buffer) throws(BackupError) in try write(buffer) }
    }

    /// Writes the gzip trailer. The writer cannot be used afterwards.
    func finish() throws(BackupError) {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        while try deflateStep(flush: Z_FINISH) != Z_STREAM_END {}
        finished = true
    }

    @discardableResult
    private func deflateStep(flush: Int32) throws(BackupError) -> Int32 {
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let rc = deflate(stream, flush)
        guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
            throw .io(path: "gzip", reason: "deflate failed (zlib error \(rc))")
        }
        let produced = output.count - Int(stream.pointee.avail_out)
        if produced > 0 {
            try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
        }
        return rc
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        header.deallocate()
        output.deallocate()
    }
}
