import Crypto
import Foundation

/// Content-defined chunking: FastCDC as published in 2020 (two bytes per step, normalized
/// chunking at level 1), with cut points identical to the reference implementation
/// (nlfiedler/fastcdc-rs, `v2020`), so the same bytes split in the same places wherever they
/// sit in a file. An insertion or a deletion changes the chunks around it only: the cuts after
/// it fall where they fell before. For data without fixed boundaries (a PostgreSQL dump, a large
/// file); a SQLite database is cut at page groups instead.
struct FastCDC: Sendable {
    /// The smallest, the expected and the largest chunk, in bytes.
    let minimumSize: Int
    let averageSize: Int
    let maximumSize: Int
    /// The sizes FastCDC's masks are defined for.
    static let minimumRange = 64...1_048_576
    static let averageRange = 256...4_194_304
    static let maximumRange = 1024...16_777_216

    private let maskS: UInt64
    private let maskL: UInt64
    private let maskSLS: UInt64
    private let maskLLS: UInt64

    /// A cut: the chunk's length from the start of the window, and the gear hash there.
    struct Cut: Equatable, Sendable {
        var length: Int
        var hash: UInt64
    }

    /// - Precondition: the sizes lie in their ranges and `minimumSize <= averageSize <= maximumSize`.
    init(minimumSize: Int, averageSize: Int, maximumSize: Int) {
        precondition(Self.minimumRange.contains(minimumSize) && Self.averageRange.contains(averageSize))
        precondition(Self.maximumRange.contains(maximumSize))
        precondition(minimumSize <= averageSize && averageSize <= maximumSize)
        self.minimumSize = minimumSize
        self.averageSize = averageSize
        self.maximumSize = maximumSize
        // The rounded base-2 logarithm picks the mask nearest the expected size; level 1 makes
        // a cut harder before it (one more bit) and easier after it (one fewer).
        let bits = Int(log2(Double(averageSize)).rounded())
        maskS = Self.masks[bits + 1]
        maskL = Self.masks[bits - 1]
        maskSLS = maskS << 1
        maskLLS = maskL << 1
    }

    /// The first chunk of `window`, which starts at a chunk boundary: at most ``maximumSize``
    /// bytes, all of `window` when it is no longer than ``minimumSize`` or no cut is found
    /// (the end of the data, or bytes with no content to cut at, such as zeros).
    func cut(_ window: UnsafeRawBufferPointer) -> Cut {
        var remaining = window.count
        if remaining <= minimumSize { return Cut(length: remaining, hash: 0) }
        var center = averageSize
        if remaining > maximumSize {
            remaining = maximumSize
        } else if remaining < center {
            center = remaining
        }
        let gear = Self.gear
        let gearLS = Self.gearLS
        var hash: UInt64 = 0
        var index = minimumSize / 2
        // Two bytes a step: the first through the shifted table and the shifted mask.
        for (limit, mask, maskLS) in [(center / 2, maskS, maskSLS), (remaining / 2, maskL, maskLLS)] {
            while index < limit {
                let at = index * 2
                hash = (hash << 2) &+ gearLS[Int(window[at])]
                if hash & maskLS == 0 { return Cut(length: at, hash: hash) }
                hash = hash &+ gear[Int(window[at + 1])]
                if hash & mask == 0 { return Cut(length: at + 1, hash: hash) }
                index += 1
            }
        }
        return Cut(length: remaining, hash: hash)
    }

    /// Every chunk of `bytes`, in order, as ranges.
    func chunks(of bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let length = cut(UnsafeRawBufferPointer(rebasing: bytes[start...])).length
            ranges.append(start..<(start + length))
            start += length
        }
        return ranges
    }

    /// The gear hash's table: for each byte value, the first 8 bytes (big-endian) of the MD5 of
    /// 64 copies of it, as the reference's `table64` example builds it.
    static let gear: [UInt64] = (0...255).map { value in
        let digest = Insecure.MD5.hash(data: [UInt8](repeating: UInt8(value), count: 64))
        return digest.prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }
    /// ``gear`` shifted left by one, for the first byte of each step.
    static let gearLS: [UInt64] = gear.map { $0 << 1 }

    /// The cut masks by bit count (index 6: 64 bytes … 24: 16 MiB): the reference
    /// implementation's (from the FastCDC paper's destor code and restic's), bits spread evenly.
    static let masks: [UInt64] = [
        0, 0, 0, 0, 0,
        0x0000_0000_0180_4110, 0x0000_0000_0180_3110, 0x0000_0000_1803_5100, 0x0000_0018_0003_5300,
        0x0000_0190_0035_3000, 0x0000_5900_0353_0000, 0x0000_d900_0353_0000, 0x0000_d901_0353_0000,
        0x0000_d903_0353_0000, 0x0000_d903_1353_0000, 0x0000_d90f_0353_0000, 0x0000_d903_0353_7000,
        0x0000_d907_0353_7000, 0x0000_d907_0753_7000, 0x0000_d917_0753_7000, 0x0000_d917_4753_7000,
        0x0000_d917_6753_7000, 0x0000_d937_6753_7000, 0x0000_d937_7753_7000, 0x0000_d937_7757_7000,
        0x0000_db37_7757_7000,
    ]
}
