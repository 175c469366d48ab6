import CZlib

/// One independent piece of a parallel gzip stream: up to `capacity` input bytes, preceded by
/// the previous block's last 32 KiB as a preset dictionary, deflated as raw deflate data that
/// ends byte-aligned (`Z_SYNC_FLUSH`) or, for the last block, with the final bit (`Z_FINISH`).
///
/// Concatenated in order, the outputs form one valid deflate stream: every block back-references
/// only its own bytes and the dictionary, which are exactly the 32 KiB a sequential inflater has
/// just produced. This is how pigz splits the work.
final class DeflateBlock {
    /// The deflate window: how far back a match may reach, and so the dictionary's size.
    static let windowSize = 32 * 1024

    let capacity: Int
    /// `[dictionary (dictionaryCount bytes) | data (count bytes)]`, in one allocation.
    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    private(set) var dictionaryCount = 0
    private(set) var count = 0
    private(set) var isLast = false

    // Written by a deflate worker, read by the writer after it has seen the block done.
    private(set) var produced = 0
    private(set) var crc: UInt = 0
    private(set) var failure: Int32?

    init(capacity: Int) {
        self.capacity = capacity
        input = .allocate(byteCount: Self.windowSize + capacity, alignment: 64)
        // deflateBound for the worst case (incompressible data in stored blocks) plus the flush markers.
        output = .allocate(byteCount: Int(compressBound(uLong(capacity))) + 64, alignment: 64)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    var isFull: Bool { count == capacity }
    var spare: Int { capacity - count }

    /// Empties the block; its dictionary becomes the last 32 KiB of `previous`'s data, if any.
    func reset(after previous: DeflateBlock?) {
        count = 0
        produced = 0
        crc = 0
        failure = nil
        isLast = false
        dictionaryCount = 0
        guard let previous else { return }
        let take = min(Self.windowSize, previous.count)
        let tail = previous.input.baseAddress! + previous.dictionaryCount + previous.count - take
        input.baseAddress!.copyMemory(from: tail, byteCount: take)
        dictionaryCount = take
    }

    /// Copies as much of `bytes` as fits; returns how many bytes were taken.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let take = min(spare, bytes.count)
        guard take > 0 else { return 0 }
        (input.baseAddress! + dictionaryCount + count).copyMemory(from: bytes.baseAddress!, byteCount: take)
        count += take
        return take
    }

    func markLast() { isLast = true }

    /// Records that the block could not be compressed (zlib's return code).
    func fail(_ code: Int32) { failure = code }

    /// The compressed bytes, valid once ``compress(with:)`` has run.
    var compressed: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: output[0..<produced]) }

    /// Deflates the block with `stream`, a raw-deflate stream at the writer's level, and
    /// computes the CRC-32 of its data. Runs on a worker thread.
    func compress(with stream: UnsafeMutablePointer<z_stream>) {
        crc = crc32(0, (input.baseAddress! + dictionaryCount).assumingMemoryBound(to: Bytef.self), uInt(count))
        var rc = deflateReset(stream)
        if rc == Z_OK && dictionaryCount > 0 {
            rc = deflateSetDictionary(
                stream, input.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(dictionaryCount))
        }
        guard rc == Z_OK else {
            failure = rc
            return
        }
        stream.pointee.next_in = (input.baseAddress! + dictionaryCount).assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(count)
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        rc = deflate(stream, isLast ? Z_FINISH : Z_SYNC_FLUSH)
        let complete = isLast ? rc == Z_STREAM_END : rc == Z_OK && stream.pointee.avail_out > 0
        guard complete, stream.pointee.avail_in == 0 else {
            failure = rc == Z_OK || rc == Z_STREAM_END ? Z_BUF_ERROR : rc
            return
        }
        produced = output.count - Int(stream.pointee.avail_out)
    }
}
