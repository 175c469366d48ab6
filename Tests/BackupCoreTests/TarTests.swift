import Foundation
import Testing

@testable import BackupCore

@Suite("Tar framing")
struct TarTests {
    @Test("headers round-trip name and size, including sizes past the octal field")
    func headerRoundTrip() throws {
        for size: Int64 in [0, 1, 511, 512, 8_589_934_591, 20_000_000_000] {
            let header = Tar.header(
                name: "database.sqlite", size: size, modificationTime: Date(timeIntervalSince1970: 0))
            #expect(header.count == 512)
            #expect(try TarReader.parse(header) == TarEntryHeader(name: "database.sqlite", size: size))
        }
    }

    @Test("a header with a bad checksum is refused")
    func badChecksum() {
        var header = Tar.header(name: "manifest.json", size: 10, modificationTime: Date())
        header[0] = UInt8(ascii: "n")
        #expect(throws: BackupError.self) { try TarReader.parse(header) }
    }

    @Test("paths, traversal and links are refused (tar-slip)", arguments: ["../evil", "/etc/passwd", "dir/file", ".."])
    func pathsRefused(_ name: String) {
        let header = Tar.header(name: name, size: 0, modificationTime: Date())
        #expect(throws: BackupError.self) { try TarReader.parse(header) }
    }

    @Test("symbolic and hard links are refused")
    func linksRefused() {
        for type in ["1", "2", "5"] {
            var header = Tar.header(name: "database.sqlite", size: 0, modificationTime: Date())
            header[156] = UInt8(ascii: Character(type).asciiValue.map { Unicode.Scalar($0) }!)
            // Recompute the checksum so only the type is wrong.
            for index in 148..<156 { header[index] = UInt8(ascii: " ") }
            let sum = header.reduce(0) { $0 + Int($1) }
            let digits = Array(String(sum, radix: 8).utf8)
            let field = Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")]
            header.replaceSubrange(148..<156, with: field)
            #expect(throws: BackupError.self) { try TarReader.parse(header) }
        }
    }
}
