import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Parallel gzip: one valid gzip stream, whatever the block boundaries")
struct ParallelGzipWriterTests {
    /// Random bytes interleaved with a repeated phrase, so matches cross block boundaries.
    static func sample(count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        var bytes = [UInt8]()
        bytes.reserveCapacity(count)
        let phrase = Array("budget groceries rent salary savings transfer ".utf8)
        while bytes.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            if state >> 62 == 0 {
                for _ in 0..<64 where bytes.count < count {
                    state = state &* 6_364_136_223_846_793_005 &+ 1
                    bytes.append(UInt8(truncatingIfNeeded: state >> 33))
                }
            } else {
                bytes.append(contentsOf: phrase.prefix(count - bytes.count))
            }
        }
        return bytes
    }

    /// Compresses `input`, fed in `chunk`-sized writes, and returns the gzip bytes.
    static func compress(
        _ input: [UInt8], level: Int, threads: Int, blockSize: Int, chunk: Int = 7_777
    ) throws -> (output: [UInt8], writer: ParallelGzipWriter) {
        var output: [UInt8] = []
        let writer = ParallelGzipWriter(level: level, threads: threads, blockSize: blockSize) { bytes in
            output.append(contentsOf: bytes)
        }
        var offset = 0
        while offset < input.count {
            let end = min(offset + chunk, input.count)
            try input[offset..<end].withUnsafeBytes { try writer.write($0) }
            offset = end
        }
        try writer.finish()
        return (output, writer)
    }

    /// Decompresses with the system's `gzip -d`, which refuses anything but valid gzip.
    static func systemGunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
        let input = directory.url.appendingPathComponent("data.gz")
        let output = directory.url.appendingPathComponent("data")
        try Data(compressed).write(to: input)
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -d -c \"$0\" > \"$1\"", input.path, output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "gzip -d refused the stream")
        return [UInt8](try Data(contentsOf: output))
    }

    /// Decompresses with the bundle reader, which also refuses trailing or truncated data.
    static func readerGunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
        let url = directory.url.appendingPathComponent("reader.gz")
        try Data(compressed).write(to: url)
        let reader = try GzipReader(file: try InputFile(reading: url)) { _ in }
        var result: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try reader.read(into: buffer)
            if count == 0 { break }
            result.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return result
    }

    static let block = 32 * 1024

    @Test(
        "gzip -d and the bundle reader get the input back at and around every block boundary",
        arguments: [0, 1, block - 1, block, block + 1, 2 * block, 5 * block + 17, 40 * block + 3])
    func roundTripAcrossBoundaries(_ size: Int) throws {
        let directory = TemporaryDirectory("gzip-boundaries")
        let input = Self.sample(count: size)
        for threads in [1, 3] {
            let (compressed, _) = try Self.compress(input, level: 6, threads: threads, blockSize: Self.block)
            #expect(try Self.systemGunzip(compressed, in: directory) == input, "size \(size), \(threads) threads")
            #expect(try Self.readerGunzip(compressed, in: directory) == input, "size \(size), \(threads) threads")
        }
    }

    @Test("every compression level gives a stream gzip -d reads back", arguments: 1...9)
    func everyLevel(_ level: Int) throws {
        let directory = TemporaryDirectory("gzip-levels")
        let input = Self.sample(count: 300_000, seed: UInt64(level))
        let (compressed, _) = try Self.compress(input, level: level, threads: 2, blockSize: Self.block, chunk: 65_536)
        #expect(try Self.systemGunzip(compressed, in: directory) == input)
    }

    @Test("writes of one byte and of many blocks at once give the same stream")
    func writeSizesDoNotMatter() throws {
        let input = Self.sample(count: 3 * Self.block + 5)
        let (bytewise, _) = try Self.compress(input, level: 6, threads: 2, blockSize: Self.block, chunk: 1)
        let (whole, _) = try Self.compress(input, level: 6, threads: 2, blockSize: Self.block, chunk: input.count)
        #expect(bytewise == whole)
    }

    @Test("each block uses the previous block's tail as its dictionary, so repeats across blocks stay cheap")
    func dictionaryCarriesAcrossBlocks() throws {
        // A 10 KB unit repeated: without dictionaries each of the 123 blocks would pay for the
        // unit again (11% of the input); with them, only the first does (about 1%).
        let unit = Self.sample(count: 10_000).map { $0 ^ 0x5a }
        let input = Array((0..<400).map { _ in unit }.joined())
        let (compressed, _) = try Self.compress(input, level: 6, threads: 2, blockSize: Self.block)
        #expect(compressed.count < input.count / 20, "compressed to \(compressed.count) bytes")
    }

    @Test("memory is bounded: the blocks in use never exceed the in-flight limit, whatever the input size")
    func boundedBlocks() throws {
        let input = Self.sample(count: 200 * Self.block)
        let (_, writer) = try Self.compress(input, level: 1, threads: 2, blockSize: Self.block, chunk: 1 << 20)
        #expect(writer.blocksAllocated <= writer.inFlightLimit + 1)
    }

    @Test("incompressible blocks go out stored, compressible ones deflated, and both read back")
    func incompressibleBlocksAreStored() throws {
        let directory = TemporaryDirectory("gzip-stored")
        var generator = SystemRandomNumberGenerator()
        let blockSize = 128 * 1024
        let random = (0..<(3 * blockSize)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Self.sample(count: 3 * blockSize).map { $0 & 0x7f }
        for (input, expected) in [(random, 3), (text, 0), (random + text, 3)] {
            let (compressed, writer) = try Self.compress(input, level: 6, threads: 2, blockSize: blockSize)
            #expect(writer.storedBlocks == expected)
            #expect(try Self.systemGunzip(compressed, in: directory) == input)
            #expect(try Self.readerGunzip(compressed, in: directory) == input)
        }
    }

    @Test("a failing sink stops the writer with the sink's error")
    func sinkFailure() throws {
        var calls = 0
        let writer = ParallelGzipWriter(level: 1, threads: 2, blockSize: Self.block) { _ throws(BackupError) in
            calls += 1
            if calls > 1 { throw BackupError.io(path: "sink", reason: "disk gone") }
        }
        let input = Self.sample(count: 20 * Self.block)
        #expect(throws: BackupError.self) {
            try input.withUnsafeBytes { try writer.write($0) }
            try writer.finish()
        }
    }
}
