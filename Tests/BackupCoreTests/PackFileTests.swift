import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Pack files: chunks as zstd frames with a trailer that lists them")
struct PackFileTests {
    /// Chunks of every kind: compressible text, random bytes, a single byte, an empty chunk's
    /// absence (a chunk always holds something), a large one.
    static func chunks() -> [[UInt8]] {
        var generator = SeededGenerator(seed: 19)
        let random = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let text = Array(String(repeating: "INSERT INTO ledger VALUES (1, 'acct', 42);\n", count: 3000).utf8)
        return [text, random, [7], [UInt8](repeating: 0, count: 1 << 20)]
    }

    static func write(_ chunks: [[UInt8]], to url: URL) throws -> (name: String, entries: [PackEntry]) {
        let writer = try PackWriter(partial: url, level: 3)
        for chunk in chunks {
            try chunk.withUnsafeBytes { try writer.add($0, sha256: SHA256.hash(data: chunk).hexString) }
        }
        let name = try writer.finish()
        return (name, writer.entries)
    }

    @Test("written, then read back chunk by chunk from the trailer; the name is the file's SHA-256")
    func roundTrip() throws {
        let directory = TemporaryDirectory("pack-round-trip")
        let url = URL(fileURLWithPath: directory.path).appendingPathComponent("a.pack")
        let chunks = Self.chunks()
        let (name, written) = try Self.write(chunks, to: url)
        #expect(name == SHA256.hash(data: try Data(contentsOf: url)).hexString)
        let reader = PackReader(url: url)
        let entries = try reader.entries()
        #expect(entries == written)
        #expect(try entries.map { try reader.chunk($0) } == chunks)
        #expect(entries[3].length < 1000, "a MiB of zeros is a small frame")
    }

    @Test("each chunk's byte range is a zstd frame the zstd tool decompresses to the chunk")
    func zstdOpensEachFrame() throws {
        let directory = TemporaryDirectory("pack-zstd")
        let url = URL(fileURLWithPath: directory.path).appendingPathComponent("a.pack")
        let chunks = Self.chunks()
        let (_, entries) = try Self.write(chunks, to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let zstd = ChildProcess(executablePath: "/usr/bin/zstd")
        for (entry, chunk) in zip(entries, chunks) {
            let frame = URL(fileURLWithPath: directory.path).appendingPathComponent("frame.zst")
            try Data(bytes[Int(entry.offset)..<Int(entry.offset + entry.length)]).write(to: frame)
            let out = URL(fileURLWithPath: directory.path).appendingPathComponent("frame")
            try? FileManager.default.removeItem(at: out)
            let result = try zstd.run(["-q", "-d", frame.path, "-o", out.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect([UInt8](try Data(contentsOf: out)) == chunk)
        }
    }

    @Test("a flipped byte in a frame, a cut trailer or another file: a verification failure naming the pack")
    func damage() throws {
        let directory = TemporaryDirectory("pack-damage")
        let url = URL(fileURLWithPath: directory.path).appendingPathComponent("a.pack")
        let (_, entries) = try Self.write(Self.chunks(), to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[Int(entries[1].offset + entries[1].length / 2)] ^= 0x40
        try Data(bytes).write(to: url)
        let reader = PackReader(url: url)
        #expect(try reader.chunk(entries[0]) == Self.chunks()[0], "the other chunks still read")
        #expect(throws: BackupError.self) { try reader.chunk(entries[1]) }
        do {
            _ = try reader.chunk(entries[1])
        } catch {
            #expect(error.message.contains("pack a.pack: chunk \(entries[1].sha256)"), "\(error.message)")
        }
        try Data(bytes.dropLast(3)).write(to: url)
        #expect(throws: BackupError.self) { try reader.entries() }
        try Data("not a pack at all, only text".utf8).write(to: url)
        #expect(throws: BackupError.self) { try reader.entries() }
    }
}
