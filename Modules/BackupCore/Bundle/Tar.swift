import Foundation

/// Writes the tar framing of a bundle: ustar headers for regular files, directories and
/// symlinks, with pax extended headers (`x`) for names and link targets past the 100-byte
/// fields, which GNU tar and bsdtar read.
///
/// Headers are built from bytes into a buffer the caller keeps (``appendHeader(for:to:)``):
/// a bundle of 100,000 small files writes 100,000 of them, so no `String` is made per field.
enum Tar {
    static let blockSize = 512
    /// The ustar name and linkname fields' width.
    static let nameFieldWidth = 100

    /// The header blocks for `entry`: a pax extended header first when a field does not fit.
    /// Sizes past the 11-digit octal field (8 GiB) use the GNU base-256 form, which GNU tar and
    /// bsdtar read.
    static func header(for entry: TarEntry) -> [UInt8] {
        var blocks: [UInt8] = []
        appendHeader(for: entry, to: &blocks)
        return blocks
    }

    /// Appends the header blocks for `entry` (see ``header(for:)``) to `blocks`.
    static func appendHeader(for entry: TarEntry, to blocks: inout [UInt8]) {
        var name = entry.path
        if entry.type == .directory { name += "/" }
        let nameBytes = name.utf8.count
        let targetBytes = entry.linkTarget?.utf8.count ?? 0
        if nameBytes > nameFieldWidth || targetBytes > nameFieldWidth {
            var records: [(String, String)] = []
            if nameBytes > nameFieldWidth { records.append(("path", name)) }
            if let target = entry.linkTarget, targetBytes > nameFieldWidth { records.append(("linkpath", target)) }
            let data = paxData(records)
            var pax = TarEntry(path: "PaxHeaders/" + truncated(entry.path, to: 60), size: Int64(data.count))
            pax.mtime = entry.mtime
            appendBlock(for: pax, name: pax.path, typeFlag: UInt8(ascii: "x"), to: &blocks)
            blocks += data
            blocks.append(contentsOf: repeatElement(0, count: padding(for: Int64(data.count))))
        }
        let typeFlag: UInt8 =
            switch entry.type {
            case .file: UInt8(ascii: "0")
            case .directory: UInt8(ascii: "5")
            case .symlink: UInt8(ascii: "2")
            }
        appendBlock(for: entry, name: name, typeFlag: typeFlag, to: &blocks)
    }

    /// Zero bytes that pad an entry of `size` bytes to the block size.
    static func padding(for size: Int64) -> Int {
        let remainder = Int(size % Int64(blockSize))
        return remainder == 0 ? 0 : blockSize - remainder
    }

    /// The two zero blocks that end an archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockSize)

    /// Appends one ustar header block; `name` and the link target are cut to their fields (a pax
    /// header before it carries them whole).
    private static func appendBlock(for entry: TarEntry, name: String, typeFlag: UInt8, to blocks: inout [UInt8]) {
        let start = blocks.count
        blocks.append(contentsOf: repeatElement(0, count: blockSize))
        blocks.withUnsafeMutableBufferPointer { whole in
            let block = UnsafeMutableBufferPointer(rebasing: whole[start..<(start + blockSize)])
            put(field(name), at: 0, in: block)
            putOctal(entry.mode & 0o7777, width: 8, at: 100, in: block)
            putOctal(0, width: 8, at: 108, in: block)  // uid
            putOctal(0, width: 8, at: 116, in: block)  // gid
            let size = entry.type == .file || typeFlag == UInt8(ascii: "x") ? entry.size : 0
            if size < 0o77777777777 {
                putOctal(Int(size), width: 12, at: 124, in: block)
            } else {
                block[124] = 0x80
                var value = UInt64(size)
                for index in stride(from: 135, to: 124, by: -1) {
                    block[index] = UInt8(value & 0xff)
                    value >>= 8
                }
            }
            putOctal(Int(max(0, min(entry.mtime, 0o77777777777))), width: 12, at: 136, in: block)
            block[156] = typeFlag
            if let target = entry.linkTarget { put(field(target), at: 157, in: block) }
            put("ustar\u{0}00".utf8, at: 257, in: block)
            put("root".utf8, at: 265, in: block)
            put("root".utf8, at: 297, in: block)
            // The checksum is computed with its own field read as eight spaces.
            for index in 148..<156 { block[index] = UInt8(ascii: " ") }
            var sum = 0
            for byte in block { sum += Int(byte) }
            putOctal(sum, width: 7, at: 148, in: block)
            block[155] = UInt8(ascii: " ")
        }
    }

    /// A name or target as it goes into a 100-byte field: whole when it fits, else cut.
    private static func field(_ text: String) -> Substring.UTF8View {
        text.utf8.count <= nameFieldWidth ? text[...].utf8 : truncated(text, to: nameFieldWidth)[...].utf8
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
        if text.utf8.count <= bytes { return text }
        var result = ""
        var count = 0
        for character in text {
            count += character.utf8.count
            if count > bytes { break }
            result.append(character)
        }
        return result
    }

    /// `value` in octal, zero-padded to `width - 1` digits, then a NUL. Callers keep `value`
    /// within the field (modes, clamped sizes and times, the checksum).
    private static func putOctal(_ value: Int, width: Int, at offset: Int, in block: UnsafeMutableBufferPointer<UInt8>)
    {
        var value = value
        for index in stride(from: offset + width - 2, through: offset, by: -1) {
            block[index] = UInt8(ascii: "0") + UInt8(value & 7)
            value >>= 3
        }
        block[offset + width - 1] = 0
    }

    private static func put<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, at offset: Int, in block: UnsafeMutableBufferPointer<UInt8>
    ) {
        var index = offset
        for byte in bytes {
            block[index] = byte
            index += 1
        }
    }
}
