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
    /// Whether the data went out as stored blocks (judged incompressible).
    private(set) var stored = false

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
        stored = false
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
    ///
    /// Data that deflate cannot shrink (random bytes, already compressed or encrypted blobs)
    /// costs zlib as much work as any other, for nothing: a trial on a sample decides, and such
    /// a block is sent as stored deflate blocks instead, which are a plain copy.
    func compress(with stream: UnsafeMutablePointer<z_stream>) {
        crc = crc32(0, (input.baseAddress! + dictionaryCount).assumingMemoryBound(to: Bytef.self), uInt(count))
        if isIncompressible(stream) {
            store()
            return
        }
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

    /// Samples per block for the trial, and the size of each: 8 KiB in all, 3% of a 256 KiB
    /// block (four 8 KiB pieces cost 12.5% more deflate work on every compressible block, which
    /// showed in a bundle of 100,000 small text files).
    static let samples = 4
    static let sampleSize = 2 * 1024

    /// Whether deflating a sample of the block (four 2 KiB pieces spread over it) saves less
    /// than 3%. Blocks under 64 KiB are always deflated.
    private func isIncompressible(_ stream: UnsafeMutablePointer<z_stream>) -> Bool {
        guard count >= 64 * 1024, deflateReset(stream) == Z_OK else { return false }
        let data = input.baseAddress! + dictionaryCount
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        for index in 0..<Self.samples {
            stream.pointee.next_in = (data + index * (count / Self.samples)).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(Self.sampleSize)
            let rc = deflate(stream, index == Self.samples - 1 ? Z_FINISH : Z_NO_FLUSH)
            guard rc == Z_OK || rc == Z_STREAM_END else { return false }
        }
        return Int(stream.pointee.total_out) * 100 >= Self.samples * Self.sampleSize * 97
    }

    /// Copies the data into stored deflate blocks (at most 65,535 bytes each): byte-aligned
    /// before and after, so it joins the stream like a flushed deflate block.
    private func store() {
        let data = input.baseAddress! + dictionaryCount
        let out = output.baseAddress!
        var read = 0
        var written = 0
        while read < count {
            let length = min(65_535, count - read)
            let final: UInt8 = isLast && read + length == count ? 1 : 0
            let header: [UInt8] = [
                final, UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8((~length >> 8) & 0xff),
            ]
            header.withUnsafeBytes { (out + written).copyMemory(from: $0.baseAddress!, byteCount: 5) }
            (out + written + 5).copyMemory(from: data + read, byteCount: length)
            read += length
            written += 5 + length
        }
        produced = written
        stored = true
    }
}
