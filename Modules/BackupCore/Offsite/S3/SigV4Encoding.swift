/// The percent-encoding AWS Signature V4 asks for: every byte of the UTF-8 form is written as
/// `%XX` (upper-case hex) except the unreserved characters `A-Z a-z 0-9 - _ . ~`.
///
/// The same function builds the URL that is sent and the canonical request that is signed, so
/// the two can never disagree.
enum SigV4Encoding {
    /// Encodes a query name or value (a `/` is encoded too).
    static func encode(_ text: String) -> String {
        encode(text, keepingSlash: false)
    }

    /// Encodes a path, keeping each `/`. S3 signs the path as sent: it is neither normalised
    /// (`..` and `//` stay) nor encoded twice.
    static func encodePath(_ path: String) -> String {
        encode(path, keepingSlash: true)
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func encode(_ text: String, keepingSlash: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
