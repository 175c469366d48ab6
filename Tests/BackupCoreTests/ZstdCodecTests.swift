import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("zstd codec: one frame the zstd tool reads, and a reader that refuses anything else")
struct ZstdCodecTests {
    /// Compresses `input` with ``ZstdWriter``, fed in `chunk`-sized writes.
    static func compress(_ input: [UInt8], level: Int, threads: Int = 2, chunk: Int = 100_003) throws -> [UInt8] {
        var output: [UInt8] = []
        let writer = try ZstdWriter(level: level, threads: threads) { bytes in output.append(contentsOf: bytes) }
        var offset = 0
        while offset < input.count {
            let end = min(offset + chunk, input.count)
            try input[offset..<end].withUnsafeBytes { try writer.write($0) }
            offset = end
        }
        try writer.finish()
        return output
    }

    /// Runs `script` under `/bin/sh` with `arguments` as $0, $1…; its exit status.
    static func shell(_ script: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script] + arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Reads `url` to its end with the codec its first bytes name, as the verifier does.
    static func readBack(_ url: URL) throws(BackupError) -> (CodecName?, [UInt8]) {
        let (codec, reader) = try CodecName.reader(for: try InputFile(reading: url)) { _ in }
        var result: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try reader.read(into: buffer)
            if count == 0 { break }
            result.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return (codec, result)
    }

    @Test("zstd -d reads what the writer wrote, at the fastest, default and smallest levels", arguments: [1, 3, 19])
    func systemToolReadsIt(level: Int) throws {
        let directory = TemporaryDirectory("zstd-levels")
        let input = ParallelGzipWriterTests.sample(count: 3_000_000 + level)
        let compressed = try Self.compress(input, level: level)
        #expect(compressed.count < input.count)
        let file = directory.url.appendingPathComponent("data.zst")
        let output = directory.url.appendingPathComponent("data")
        try Data(compressed).write(to: file)
        #expect(try Self.shell("zstd -q -d -c \"$0\" > \"$1\"", [file.path, output.path]) == 0)
        #expect([UInt8](try Data(contentsOf: output)) == input)
        // The frame carries its checksum (zstd -lv reports it) and our reader gets the input back.
        let (codec, readBack) = try Self.readBack(file)
        #expect(codec == .zstd)
        #expect(readBack == input)
    }

    @Test("the reader takes what the zstd tool writes, with or without a checksum, and an empty frame")
    func readerReadsTheTool() throws {
        let directory = TemporaryDirectory("zstd-tool")
        for (name, size, flags) in [("small", 1000, "-1"), ("large", 2_500_000, "-3 --no-check"), ("empty", 0, "-1")] {
            let input = ParallelGzipWriterTests.sample(count: size, seed: UInt64(size))
            let plain = directory.url.appendingPathComponent(name)
            try Data(input).write(to: plain)
            #expect(try Self.shell("zstd -q -f \(flags) \"$0\" -o \"$0.zst\"", [plain.path]) == 0)
            let (codec, readBack) = try Self.readBack(plain.appendingPathExtension("zst"))
            #expect(codec == .zstd)
            #expect(readBack == input, "\(name)")
        }
    }

    @Test("trailing bytes, a truncated frame and a flipped byte are verification failures")
    func damageRefused() throws {
        let directory = TemporaryDirectory("zstd-damage")
        let input = ParallelGzipWriterTests.sample(count: 1_500_000)
        let good = try Self.compress(input, level: 3)
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        var checksum = good
        checksum[good.count - 1] ^= 0x01  // the last byte is the content checksum's
        let cases: [(String, [UInt8], String)] = [
            ("tail", good + Array("tail".utf8), "4 unexpected bytes follow the zstd frame"),
            ("second frame", good + good, "unexpected bytes follow the zstd frame"),
            ("truncated", Array(good.prefix(good.count - 100)), "the zstd stream is truncated"),
            ("one byte short", Array(good.dropLast()), "the zstd stream is truncated"),
            ("flipped", flipped, "the zstd stream is corrupt"),
            ("checksum", checksum, "the zstd stream is corrupt"),
        ]
        for (name, bytes, reason) in cases {
            let file = directory.url.appendingPathComponent("\(name).zst")
            try Data(bytes).write(to: file)
            let error = #expect(throws: BackupError.self, "\(name)") { _ = try Self.readBack(file) }
            guard case .verificationFailed(let message) = error else {
                Issue.record("\(name): \(String(describing: error))")
                continue
            }
            #expect(message.contains(reason), "\(name): \(message)")
        }
    }

    @Test("detection goes by the first bytes: gzip, zstd, neither")
    func detection() throws {
        #expect(CodecName.detect(head: [0x1F, 0x8B, 8, 0]) == .gzip)
        #expect(CodecName.detect(head: [0x28, 0xB5, 0x2F, 0xFD, 0x04]) == .zstd)
        #expect(CodecName.detect(head: [0x28, 0xB5, 0x2F]) == nil)
        #expect(CodecName.detect(head: Array("ustar".utf8)) == nil)
        #expect(CodecName.detect(head: []) == nil)
        #expect(CodecName.zstd.fileExtension == ".tar.zst" && CodecName.gzip.fileExtension == ".tar.gz")
        #expect(CodecName.zstd.contentType == "application/zstd" && CodecName.gzip.contentType == "application/gzip")
        #expect(CodecName.zstd.levels == 1...19 && CodecName.gzip.levels == 1...9)
    }
}
