import Foundation

/// Writes the tar framing of a bundle: ustar headers for regular files, directories and
/// symlinks, with pax extended headers (`x`) for names and link targets past the 100-byte
/// fields, which GNU tar and bsdtar read.
enum Tar {
    static let blockSize = 512
    /// The ustar name and linkname fields' width.
    static let nameFieldWidth = 100

    /// The header blocks for `entry`: a pax extended header first when a field does not fit.
    /// Sizes past the 11-digit octal field (8 GiB) use the GNU base-256 form, which GNU tar and
    /// bsdtar read.
    static func header(for entry: TarEntry) -> [UInt8] {
        let name = entry.type == .directory ? entry.path + "/" : entry.path
        var records: [(String, String)] = []
        if name.utf8.count > nameFieldWidth { records.append(("path", name)) }
        if let target = entry.linkTarget, target.utf8.count > nameFieldWidth { records.append(("linkpath", target)) }
        var blocks: [UInt8] = []
        if !records.isEmpty {
            let data = paxData(records)
            var pax = TarEntry(path: "PaxHeaders/" + truncated(entry.path, to: 60), size: Int64(data.count))
            pax.mtime = entry.mtime
            blocks += block(for: pax, name: pax.path, typeFlag: UInt8(ascii: "x"))
            blocks += data
            blocks += [UInt8](repeating: 0, count: padding(for: Int64(data.count)))
        }
        let typeFlag: UInt8 =
            switch entry.type {
            case .file: UInt8(ascii: "0")
            case .directory: UInt8(ascii: "5")
            case .symlink: UInt8(ascii: "2")
            }
        blocks += block(for: entry, name: name, typeFlag: typeFlag)
        return blocks
    }

    /// Zero bytes that pad an entry of `size` bytes to the block size.
    static func padding(for size: Int64) -> Int {
        let remainder = Int(size % Int64(blockSize))
        return remainder == 0 ? 0 : blockSize - remainder
    }

    /// The two zero blocks that end an archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockSize)

    /// One ustar header block; `name` and the link target are cut to their fields (a pax
    /// header before it carries them whole).
    private static func block(for entry: TarEntry, name: String, typeFlag: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        put(Array(truncated(name, to: nameFieldWidth).utf8), at: 0, in: &block)
        put(octal(entry.mode & 0o7777, width: 8), at: 100, in: &block)
        put(octal(0, width: 8), at: 108, in: &block)  // uid
        put(octal(0, width: 8), at: 116, in: &block)  // gid
        let size = entry.type == .file || typeFlag == UInt8(ascii: "x") ? entry.size : 0
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
        put(octal(Int(max(0, min(entry.mtime, 0o77777777777))), width: 12), at: 136, in: &block)
        block[156] = typeFlag
        if let target = entry.linkTarget {
            put(Array(truncated(target, to: nameFieldWidth).utf8), at: 157, in: &block)
        }
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

    /// pax records, `"<length> <key>=<value>\n"`, where the length counts the whole record.
    private static func paxData(_ records: [(String, String)]) -> [UInt8] {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = " \(key)=\(value)\n".utf8.count
            var length = body + String(body).count
            if String(length).count != String(body).count { length = body + String(length).count }
            data += Array("\(length) \(key)=\(value)\n".utf8)
        }
        return data
    }

    /// The longest prefix of `text` that fits in `bytes` UTF-8 bytes without splitting a character.
    private static func truncated(_ text: String, to bytes: Int) -> String {
        var result = ""
        var count = 0
        for character in text {
            count += character.utf8.count
            if count > bytes { break }
            result.append(character)
        }
        return result
    }

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
