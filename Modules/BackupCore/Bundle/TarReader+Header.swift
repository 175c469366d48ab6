import Foundation

extension TarReader {
    /// A header block's fields before the extended headers are applied.
    struct RawHeader: Equatable {
        var name: String
        var typeFlag: UInt8
        var size: Int64
        var mode: Int
        var mtime: Int64
        var linkName: String
    }

    /// Parses one header block: checksum, name (with the ustar prefix), size (octal or GNU
    /// base-256), mode, mtime, type and link name.
    static func parse(_ block: [UInt8]) throws(BackupError) -> RawHeader {
        var expected = 0
        for (index, byte) in block.enumerated() {
            expected += (148..<156).contains(index) ? Int(UInt8(ascii: " ")) : Int(byte)
        }
        guard let stored = octalValue(block[148..<156]), stored == expected else {
            throw .verificationFailed(reason: "a tar header checksum does not match")
        }
        // POSIX ustar (`ustar\0`) has a name prefix at 345; GNU's `ustar  ` keeps other fields there.
        let isPOSIX = block[257..<263].elementsEqual([0x75, 0x73, 0x74, 0x61, 0x72, 0x00])
        guard let field = String(bytes: block[0..<100].prefix { $0 != 0 }, encoding: .utf8),
            let prefix = String(bytes: isPOSIX ? block[345..<500].prefix { $0 != 0 } : [], encoding: .utf8),
            let linkName = String(bytes: block[157..<257].prefix { $0 != 0 }, encoding: .utf8)
        else {
            throw .verificationFailed(reason: "a tar entry has a name that is not UTF-8")
        }
        let name = prefix.isEmpty ? field : prefix + "/" + field
        guard !name.isEmpty else { throw .verificationFailed(reason: "a tar entry has no readable name") }
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
        guard let mode = octalValue(block[100..<108]) ?? (block[100] == 0 ? 0 : nil),
            let mtime = octalValue(block[136..<148]) ?? (block[136] == 0 ? 0 : nil)
        else {
            throw .verificationFailed(reason: "tar entry \(name.debugDescription) has an unreadable mode or mtime")
        }
        return RawHeader(
            name: name, typeFlag: block[156], size: size, mode: mode & 0o7777, mtime: Int64(mtime), linkName: linkName)
    }

    /// pax records, `"<length> <key>=<value>\n"`.
    static func paxRecords(_ data: [UInt8]) throws(BackupError) -> [(String, String)] {
        var records: [(String, String)] = []
        var offset = 0
        while offset < data.count {
            if data[offset] == 0 { break }
            guard let space = data[offset...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[offset..<space], as: UTF8.self)), length > space - offset,
                offset + length <= data.count, data[offset + length - 1] == 0x0a,
                let equals = data[(space + 1)..<(offset + length)].firstIndex(of: UInt8(ascii: "="))
            else {
                throw .verificationFailed(reason: "a tar extended header is malformed")
            }
            guard let key = String(bytes: data[(space + 1)..<equals], encoding: .utf8),
                let value = String(bytes: data[(equals + 1)..<(offset + length - 1)], encoding: .utf8)
            else {
                throw .verificationFailed(reason: "a tar extended header is not UTF-8")
            }
            records.append((key, value))
            offset += length
        }
        return records
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
