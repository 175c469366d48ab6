import Foundation

extension Manifest {
    /// `manifest.json`'s bytes: JSON with sorted keys, pretty-printed, then a newline; the entry
    /// list is written by hand: `JSONEncoder` builds a tree of boxed values first, which
    /// for 100,000 entries cost more than framing the files. Everything but the entries still
    /// goes through `JSONEncoder`, and the entries come out as it would write them.
    func encoded() throws(BackupError) -> [UInt8] {
        var shell = self
        shell.entries = []
        let encoded: [UInt8]
        do {
            encoded = Array(try JSONEncoder.backupManager(pretty: true).encode(shell))
        } catch {
            throw .io(path: Self.entryName, reason: "cannot encode: \(error)")
        }
        // Keys are sorted: `created_at` (a date) comes first, then `entries`; its empty list is
        // the first `"entries" : [` followed by white space and `]`.
        let key = Array(#""entries" : ["#.utf8)
        guard let start = Self.firstIndex(of: key, in: encoded) else {
            throw .io(path: Self.entryName, reason: "cannot encode: no entries key")
        }
        var end = start + key.count
        while end < encoded.count, encoded[end] != UInt8(ascii: "]") { end += 1 }
        guard end < encoded.count else { throw .io(path: Self.entryName, reason: "cannot encode: no entries list") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encoded.count + entries.count * 200)
        bytes += encoded[0..<start]
        bytes += key
        if entries.isEmpty {
            bytes += encoded[(start + key.count)...end]
        } else {
            for (index, entry) in entries.enumerated() {
                bytes.append(contentsOf: (index == 0 ? "\n    {\n" : ",\n    {\n").utf8)
                entry.appendJSON(to: &bytes)
                bytes.append(contentsOf: "\n    }".utf8)
            }
            bytes.append(contentsOf: "\n  ]".utf8)
        }
        bytes += encoded[(end + 1)...]
        bytes.append(0x0a)
        return bytes
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

extension Manifest.Entry {
    /// The entry's fields, sorted by key, six spaces in, as `JSONEncoder` writes them pretty.
    fileprivate func appendJSON(to bytes: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            bytes.append(contentsOf: first ? "      \"".utf8 : ",\n      \"".utf8)
            first = false
            name.withUTF8Buffer { bytes += $0 }
            bytes.append(contentsOf: "\" : ".utf8)
        }
        if let mode {
            key("mode")
            let digits = String(mode, radix: 8)
            Self.appendString(String(repeating: "0", count: max(0, 4 - digits.count)) + digits, to: &bytes)
        }
        if let mtime {
            key("mtime")
            bytes.append(contentsOf: String(mtime).utf8)
        }
        key("path")
        Self.appendString(path, to: &bytes)
        if let sha256 {
            key("sha256")
            Self.appendString(sha256, to: &bytes)
        }
        key("size")
        bytes.append(contentsOf: String(size).utf8)
        if let target {
            key("target")
            Self.appendString(target, to: &bytes)
        }
        if type != .file {
            key("type")
            Self.appendString(type.rawValue, to: &bytes)
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`
    /// escapes, `/` and everything else as is (UTF-8).
    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Paths and hashes rarely need escapes: those that need none go in whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            let short: UInt8? =
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte
                case 0x08: UInt8(ascii: "b")
                case 0x0c: UInt8(ascii: "f")
                case 0x0a: UInt8(ascii: "n")
                case 0x0d: UInt8(ascii: "r")
                case 0x09: UInt8(ascii: "t")
                default: nil
                }
            if let short {
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(short)
            } else if byte < 0x20 {
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0f)])
            } else {
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
