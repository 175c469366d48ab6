import Foundation
import Testing

@testable import BackupCore

@Suite("Tar framing")
struct TarTests {
    /// Frames `entries` (with `data` for files) as a whole archive.
    static func archive(_ entries: [(TarEntry, [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (entry, data) in entries {
            bytes += Tar.header(for: entry) + data
            bytes += [UInt8](repeating: 0, count: Tar.padding(for: Int64(data.count)))
        }
        return bytes + Tar.endOfArchive
    }

    /// A reader over an in-memory archive; `asked` sees the size of every read it makes.
    static func reader(over bytes: [UInt8], asked: @escaping (Int) -> Void = { _ in }) -> TarReader {
        var offset = 0
        return TarReader { buffer in
            asked(buffer.count)
            let count = min(buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
            }
            offset += count
            return count
        }
    }

    /// Reads every entry of an in-memory archive.
    static func read(_ bytes: [UInt8]) throws(BackupError) -> [(TarEntry, [UInt8])] {
        var reader = reader(over: bytes)
        var result: [(TarEntry, [UInt8])] = []
        while let entry = try reader.nextEntry() {
            result.append((entry, try reader.readData(size: Int(entry.size))))
        }
        try reader.ensureOnlyPaddingFollows()
        return result
    }

    @Test("headers round-trip path, size, mode and mtime, including sizes past the octal field")
    func headerRoundTrip() throws {
        for size: Int64 in [0, 1, 511, 512, 8_589_934_591, 20_000_000_000] {
            let entry = TarEntry(path: "database.sqlite", size: size, mode: 0o640, mtime: 1_700_000_000)
            let header = Tar.header(for: entry)
            #expect(header.count == 512)
            let raw = try TarReader.parse(header)
            #expect(raw.name == "database.sqlite" && raw.size == size && raw.mode == 0o640)
            #expect(raw.mtime == 1_700_000_000)
        }
    }

    @Test("names past 100 bytes, directories and symlinks with long targets round-trip whole (pax headers)")
    func longNamesRoundTrip() throws {
        let long = "files/" + String(repeating: "déjà-vu ", count: 30) + "/end.txt"
        let target = String(repeating: "../elsewhere/", count: 12) + "target"
        let entries: [(TarEntry, [UInt8])] = [
            (TarEntry(path: "files", type: .directory, mode: 0o755, mtime: 5), []),
            (TarEntry(path: long, size: 3, mode: 0o600, mtime: 6), [1, 2, 3]),
            (TarEntry(path: "files/link", type: .symlink, mode: 0o777, mtime: 7, linkTarget: target), []),
        ]
        let read = try Self.read(Self.archive(entries))
        #expect(read.map(\.0) == entries.map(\.0))
        #expect(read.map(\.1) == entries.map(\.1))
    }

    @Test("a header with a bad checksum is refused")
    func badChecksum() {
        var header = Tar.header(for: TarEntry(path: "manifest.json", size: 10))
        header[0] = UInt8(ascii: "n")
        #expect(throws: BackupError.self) { try TarReader.parse(header) }
    }

    @Test(
        "absolute paths, .. components and empty components are refused (tar-slip)",
        arguments: ["../evil", "/etc/passwd", "a/../../evil", "..", "a//b", "./a/./b"])
    func pathsRefused(_ name: String) {
        let archive = Self.archive([(TarEntry(path: name, size: 0), [])])
        #expect(throws: BackupError.self) { try Self.read(archive) }
    }

    @Test("an entry below a symlink of the same archive is refused")
    func throughSymlinkRefused() {
        let archive = Self.archive([
            (TarEntry(path: "a", type: .symlink, linkTarget: "/etc"), []),
            (TarEntry(path: "a/passwd", size: 1), [0x41]),
        ])
        #expect(throws: BackupError.self) { try Self.read(archive) }
    }

    @Test("hard links, devices and FIFOs are refused")
    func otherTypesRefused() {
        for type in ["1", "3", "4", "6"] {
            var header = Tar.header(for: TarEntry(path: "database.sqlite", size: 0))
            header[156] = UInt8(ascii: Unicode.Scalar(Character(type).asciiValue!))
            // Recompute the checksum so only the type is wrong.
            for index in 148..<156 { header[index] = UInt8(ascii: " ") }
            let sum = header.reduce(0) { $0 + Int($1) }
            let digits = Array(String(sum, radix: 8).utf8)
            let field = Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")]
            header.replaceSubrange(148..<156, with: field)
            #expect(throws: BackupError.self) { try Self.read(header + Tar.endOfArchive) }
        }
    }

    @Test("an entry claiming 200 MiB over a few bytes is refused, read in bounded chunks (no 200 MiB buffer)")
    func claimedSizeNotAllocated() throws {
        let claimed = 200 * 1024 * 1024
        let bytes = Tar.header(for: TarEntry(path: "manifest.json", size: Int64(claimed))) + Array("{\"a\": 1}".utf8)
        var largestAsked = 0
        var reader = Self.reader(over: bytes) { largestAsked = max(largestAsked, $0) }
        let entry = try #require(try reader.nextEntry())
        #expect(entry.size == Int64(claimed))
        #expect(throws: BackupError.verificationFailed(reason: "the tar stream ends inside an entry")) {
            _ = try reader.readData(size: Int(entry.size))
        }
        // The reader asks its source to fill its buffers: none was near the claimed size.
        #expect(largestAsked <= TarReader.dataChunkBytes)
    }
}
