/// One recipient stanza of an age header: `-> type arguments…`, then its body in base64 lines of
/// 64 columns, the last one shorter (possibly empty).
struct AgeStanza: Equatable {
    /// The stanza's arguments; the first names its type (`X25519`, `scrypt`).
    var arguments: [String]
    var body: [UInt8]

    var type: String { arguments[0] }

    /// The stanza as it stands in a header, each line ending with LF.
    var encoded: [UInt8] {
        var bytes = Array("-> \(arguments.joined(separator: " "))\n".utf8)
        let text = AgeBase64.encode(body)
        var start = 0
        // Full lines, then always a shorter final line (empty when the body fills whole lines).
        while text.count - start >= AgeFormat.columnsPerLine {
            bytes += text[start..<(start + AgeFormat.columnsPerLine)]
            bytes.append(0x0A)
            start += AgeFormat.columnsPerLine
        }
        bytes += text[start...]
        bytes.append(0x0A)
        return bytes
    }
}
