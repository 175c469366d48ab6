import Foundation

/// The subset of the ustar format a bundle uses: regular files only, names without directories.
enum Tar {
    static let blockSize = 512

    /// A ustar header for a regular file. Sizes past the 11-digit octal field (8 GiB) use the
    /// GNU base-256 form, which GNU tar and bsdtar read.
    static func header(name: String, size: Int64, modificationTime: Date, mode: Int = 0o644) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        put(Array(name.utf8.prefix(100)), at: 0, in: &block)
        put(octal(mode, width: 8), at: 100, in: &block)
        put(octal(0, width: 8), at: 108, in: &block)  // uid
        put(octal(0, width: 8), at: 116, in: &block)  // gid
        if size < 0o77777777777 {
            put(octal(Int(size), width: 12), at: 124, in: &block)
        } else {
            block[124] = 0x80
            var value = UInt64(size)
            for index in stride(from: 135, to: 124, by: -1) {
                block[index] = UInt8(value & 0xff)
                value >>= 8
            }
        }
        put(octal(max(0, Int(modificationTime.timeIntervalSince1970)), width: 12), at: 136, in: &block)
        block[156] = UInt8(ascii: "0")
        put(Array("ustar\u{0}00".utf8), at: 257, in: &block)
        put(Array("root".utf8), at: 265, in: &block)
        put(Array("root".utf8), at: 297, in: &block)
        // The checksum is computed with its own field read as eight spaces.
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7), at: 148, in: &block)
        block[155] = UInt8(ascii: " ")
        return block
    }

    /// Zero bytes that pad an entry of `size` bytes to the block size.
    static func padding(for size: Int64) -> Int {
        let remainder = Int(size % Int64(blockSize))
        return remainder == 0 ? 0 : blockSize - remainder
    }

    /// The two zero blocks that end an archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockSize)

    /// `value` in octal, zero-padded, NUL-terminated, `width` bytes in all.
    private static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        return Array(padded.utf8) + [0]
    }

    private static func put(_ bytes: [UInt8], at offset: Int, in block: inout [UInt8]) {
        block.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }
}

/// A tar entry header as read back, after validation.
struct TarEntryHeader: Equatable {
    var name: String
    var size: Int64
}

/// Reads a tar stream produced by ``Tar`` and refuses anything else: bad checksums, links,
/// directories, paths with `/` or `..`, unknown entry types.
struct TarReader {
    /// Pulls up to `buffer.count` bytes; 0 at the end of the stream.
    typealias Source = (UnsafeMutableRawBufferPointer) throws(BackupError) -> Int

    private let source: Source
    private var remainingInEntry: Int64 = 0
    private var paddingAfterEntry = 0

    init(source: @escaping Source) {
        self.source = source
    }

    /// The next entry's header, or nil at the end-of-archive marker.
    mutating func nextEntry() throws(BackupError) -> TarEntryHeader? {
        try skipRestOfEntry()
        var block = [UInt8](repeating: 0, count: Tar.blockSize)
        let count = try block.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
        guard count == Tar.blockSize else { throw .verificationFailed(reason: "the tar stream ends inside a header") }
        if block.allSatisfy({ $0 == 0 }) {
            var second = [UInt8](repeating: 0, count: Tar.blockSize)
            let read = try second.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
            guard read == Tar.blockSize, second.allSatisfy({ $0 == 0 }) else {
                throw .verificationFailed(reason: "the tar end-of-archive marker is malformed")
            }
            return nil
        }
        let header = try Self.parse(block)
        remainingInEntry = header.size
        paddingAfterEntry = Tar.padding(for: header.size)
        return header
    }

    /// Reads the current entry's data; 0 at the end of the entry.
    mutating func readEntry(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard remainingInEntry > 0 else { return 0 }
        let wanted = Int(min(Int64(buffer.count), remainingInEntry))
        let count = try readExactly(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
        guard count == wanted else { throw .verificationFailed(reason: "the tar stream ends inside an entry") }
        remainingInEntry -= Int64(count)
        return count
    }

    /// Whatever follows the end-of-archive marker must be zero padding.
    mutating func ensureOnlyPaddingFollows() throws(BackupError) {
        var block = [UInt8](repeating: 0, count: Tar.blockSize)
        while true {
            let count = try block.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
            if count == 0 { return }
            guard block[0..<count].allSatisfy({ $0 == 0 }) else {
                throw .verificationFailed(reason: "data follows the end of the tar archive")
            }
        }
    }

    private mutating func skipRestOfEntry() throws(BackupError) {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while remainingInEntry > 0 {
            _ = try scratch.withMutableBytes { (buffer) throws(BackupError) in try readEntry(into: buffer) }
        }
        if paddingAfterEntry > 0 {
            let count = try scratch.withMutableBytes { (buffer) throws(BackupError) in
                try readExactly(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<paddingAfterEntry]))
            }
            guard count == paddingAfterEntry else {
                throw .verificationFailed(reason: "the tar stream ends inside padding")
            }
            paddingAfterEntry = 0
        }
    }

    private func readExactly(_ buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = try source(UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }

    static func parse(_ block: [UInt8]) throws(BackupError) -> TarEntryHeader {
        var expected = 0
        for (index, byte) in block.enumerated() {
            expected += (148..<156).contains(index) ? Int(UInt8(ascii: " ")) : Int(byte)
        }
        guard let stored = octalValue(block[148..<156]), stored == expected else {
            throw .verificationFailed(reason: "a tar header checksum does not match")
        }
        let nameBytes = block[0..<100].prefix { $0 != 0 }
        let prefixBytes = block[345..<500].prefix { $0 != 0 }
        guard let name = String(bytes: nameBytes, encoding: .utf8), !name.isEmpty else {
            throw .verificationFailed(reason: "a tar entry has no readable name")
        }
        guard prefixBytes.isEmpty, !name.contains("/"), name != ".", name != "..", !name.contains("\\") else {
            throw .verificationFailed(
                reason: "tar entry \(name.debugDescription) has a path; only plain names are allowed")
        }
        let type = block[156]
        guard type == UInt8(ascii: "0") || type == 0 else {
            throw .verificationFailed(
                reason:
                    "tar entry \(name.debugDescription) is not a regular file (type \(Character(UnicodeScalar(type))))")
        }
        let size: Int64
        if block[124] & 0x80 != 0 {
            var value: Int64 = Int64(block[124] & 0x7f)
            for byte in block[125..<136] {
                guard value < (Int64.max >> 8) else {
                    throw .verificationFailed(reason: "a tar entry size is too large")
                }
                value = value << 8 | Int64(byte)
            }
            size = value
        } else if let octal = octalValue(block[124..<136]) {
            size = Int64(octal)
        } else {
            throw .verificationFailed(reason: "tar entry \(name.debugDescription) has an unreadable size")
        }
        return TarEntryHeader(name: name, size: size)
    }

    private static func octalValue(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var seenDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < Int.max >> 3 else { return nil }
                value = value * 8 + Int(byte - UInt8(ascii: "0"))
                seenDigit = true
            case 0, UInt8(ascii: " "):
                if seenDigit { return value }
            default:
                return nil
            }
        }
        return seenDigit ? value : nil
    }
}
