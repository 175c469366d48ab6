import CZlib
import Foundation

/// Streams bytes into one gzip member, deflating independent blocks on several threads (the
/// pigz method), and hands the compressed bytes to `sink` in order, on the caller's thread.
///
/// The input is cut into `blockSize` blocks; each is deflated with the previous block's last
/// 32 KiB as its dictionary and ends byte-aligned, so the concatenation is one ordinary deflate
/// stream: `gzip -d`, `tar -xzf` and ``GzipReader`` read it as any other. The CRC-32 of each
/// block is computed by its worker and combined in order (`crc32_combine`). Memory is bounded:
/// at most `maxInFlight` blocks exist at once (each about 2 × `blockSize`), whatever the input
/// size; when they are all busy, `write` waits for the oldest.
final class ParallelGzipWriter {
    typealias Sink = (UnsafeRawBufferPointer) throws(BackupError) -> Void

    static let defaultBlockSize = 256 * 1024

    private let level: Int
    private let sink: Sink
    private let workers: DeflateWorkers
    private let maxInFlight: Int
    /// Submitted blocks, oldest first; emitted in this order.
    private var inFlight: [DeflateBlock] = []
    private var spare: [DeflateBlock] = []
    private var current: DeflateBlock
    private let blockSize: Int
    private var crc: UInt = 0
    private var length: UInt64 = 0
    private var headerWritten = false
    private var finished = false
    /// Blocks allocated so far: never more than `maxInFlight + 1`, whatever the input size.
    private(set) var blocksAllocated = 1
    /// Blocks judged incompressible and sent as stored deflate blocks.
    private(set) var storedBlocks = 0

    /// - Parameters:
    ///   - level: 1 (fastest) to 9 (smallest).
    ///   - threads: deflate threads; by default one per active processor, at most 8.
    ///   - blockSize: input bytes per independent block (at least 32 KiB).
    init(
        level: Int, threads: Int = ParallelGzipWriter.defaultThreads, blockSize: Int = defaultBlockSize,
        sink: @escaping Sink
    ) {
        self.level = min(max(level, 1), 9)
        self.sink = sink
        self.blockSize = max(blockSize, DeflateBlock.windowSize)
        workers = DeflateWorkers(count: threads, level: self.level)
        // Two blocks per thread keep every thread busy while the caller emits and refills.
        maxInFlight = 2 * workers.count
        current = DeflateBlock(capacity: self.blockSize)
    }

    /// The most blocks that may be queued or compressing at once.
    var inFlightLimit: Int { maxInFlight }

    /// One deflate thread per active processor, capped so memory stays bounded on large machines.
    static var defaultThreads: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8) }

    deinit {
        workers.stop()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            if current.isFull { try submitCurrent() }
            offset += current.append(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
    }

    func write(_ bytes: [UInt8]) throws(BackupError) {
        try bytes.withBytes { (buffer) throws(BackupError) in try write(buffer) }
    }

    /// Compresses what is left, writes the gzip trailer and stops the threads.
    func finish() throws(BackupError) {
        precondition(!finished, "finish() called twice")
        current.markLast()
        try submitCurrent()
        while !inFlight.isEmpty { try emitOldest() }
        var trailer = [UInt8](repeating: 0, count: 8)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt64(crc) >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: length >> (8 * index))
        }
        try trailer.withBytes { (buffer) throws(BackupError) in try sink(buffer) }
        finished = true
        workers.stop()
    }

    private func submitCurrent() throws(BackupError) {
        while inFlight.count >= maxInFlight { try emitOldest() }
        let next = spare.popLast() ?? allocateBlock()
        next.reset(after: current)
        workers.submit(current)
        inFlight.append(current)
        current = next
        // Emit whatever is already done, so the sink sees bytes as early as possible.
        while let oldest = inFlight.first, workers.isDone(oldest, wait: false) {
            try emit(inFlight.removeFirst())
        }
    }

    private func allocateBlock() -> DeflateBlock {
        blocksAllocated += 1
        return DeflateBlock(capacity: blockSize)
    }

    private func emitOldest() throws(BackupError) {
        let oldest = inFlight.removeFirst()
        _ = workers.isDone(oldest, wait: true)
        try emit(oldest)
    }

    private func emit(_ block: DeflateBlock) throws(BackupError) {
        defer { spare.append(block) }
        if let code = block.failure {
            throw .io(path: "gzip", reason: "deflate failed (zlib error \(code))")
        }
        if !headerWritten {
            // ID1 ID2, CM deflate, FLG FHCRC, MTIME 0, XFL (4: fastest, 2: best), OS 3 (Unix), then
            // the header's CRC-16 (the low half of its CRC-32). gzip readers check it, so damage to
            // the header is detected even where no recorded SHA-256 is at hand (an import).
            let extraFlags: UInt8 = level == 1 ? 4 : level == 9 ? 2 : 0
            var header: [UInt8] = [0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, extraFlags, 3]
            let headerCRC = header.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            header += [UInt8(headerCRC & 0xff), UInt8((headerCRC >> 8) & 0xff)]
            try header.withBytes { (buffer) throws(BackupError) in try sink(buffer) }
            headerWritten = true
        }
        try sink(block.compressed)
        if block.stored { storedBlocks += 1 }
        crc = crc32_combine(crc, block.crc, off_t(block.count))
        length &+= UInt64(block.count)
    }
}
