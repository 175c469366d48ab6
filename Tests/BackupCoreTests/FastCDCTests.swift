import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("FastCDC: content-defined cut points, as the reference implementation cuts them")
struct FastCDCTests {
    /// The reference implementation's test image (`Tests/Fixtures/fastcdc/README.md`).
    static let sekien = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fastcdc/SekienAkashita.jpg")

    /// Cuts `bytes` from the start to the end, as the reference's tests call `cut` in turn.
    static func cuts(_ bytes: [UInt8], _ chunker: FastCDC) -> [FastCDC.Cut] {
        bytes.withUnsafeBytes { buffer in
            var cuts: [FastCDC.Cut] = []
            var start = 0
            while start < buffer.count {
                let cut = chunker.cut(UnsafeRawBufferPointer(rebasing: buffer[start...]))
                cuts.append(cut)
                start += cut.length
            }
            return cuts
        }
    }

    @Test(
        "the reference's expectations for its test image at 16, 32 and 64 KiB: every length and gear hash",
        arguments: [
            (
                4096, 16384, 65535,
                [
                    (17_968_276_318_003_433_923, 21325), (8_197_189_939_299_398_838, 17140),
                    (13_019_990_849_178_155_730, 28084), (4_509_236_223_063_678_303, 18217),
                    (2_504_464_741_100_432_583, 24700),
                ]
            ),
            (8192, 32768, 131072, [(15_733_367_461_443_853_673, 66549), (6_321_136_627_705_800_457, 42917)]),
            (16384, 65536, 262144, [(2_504_464_741_100_432_583, 109466)]),
        ] as [(Int, Int, Int, [(UInt64, Int)])])
    func referenceVectors(minimum: Int, average: Int, maximum: Int, expected: [(UInt64, Int)]) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.sekien))
        #expect(bytes.count == 109466)
        let chunker = FastCDC(minimumSize: minimum, averageSize: average, maximumSize: maximum)
        let cuts = Self.cuts(bytes, chunker)
        #expect(cuts.map(\.length) == expected.map(\.1))
        #expect(cuts.map(\.hash) == expected.map(\.0))
    }

    @Test("the gear table is MD5-derived as the reference's: its first entries and the shifted table")
    func gearTable() {
        #expect(FastCDC.gear.count == 256)
        #expect(FastCDC.gear[0] == 0x3b5d_3c7d_207e_37dc)
        #expect(FastCDC.gear[1] == 0x784d_68ba_9112_3086)
        #expect(FastCDC.gearLS[0] == 0x76ba_78fa_40fc_6fb8)
    }

    @Test("bytes inserted near the start change only the chunks around them: every later cut falls where it fell")
    func insertionResynchronizes() {
        var generator = SeededGenerator(seed: 20_261_126)
        let original = (0..<(4 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var edited = original
        edited.insert(contentsOf: Array("an insertion of some bytes".utf8), at: 100_000)
        let chunker = FastCDC(minimumSize: 16384, averageSize: 65536, maximumSize: 262144)
        let before = original.withUnsafeBytes { chunker.chunks(of: $0) }
        let after = edited.withUnsafeBytes { chunker.chunks(of: $0) }
        #expect(before.count > 40, "about 64 KiB each over 4 MiB")
        #expect(before.allSatisfy { $0.count <= 262144 } && before.dropLast().allSatisfy { $0.count >= 16384 })
        // Content after the edit: the same chunks, shifted by the insertion.
        let shifted = Set(after.filter { $0.lowerBound > 200_000 }.map { $0.lowerBound - 26 })
        let unchanged = before.filter { $0.lowerBound > 200_000 }.map(\.lowerBound)
        #expect(!unchanged.isEmpty && unchanged.allSatisfy(shifted.contains))
        #expect(before.last?.upperBound == original.count && after.last?.upperBound == edited.count)
    }

    @Test("zeros have nothing to cut at: chunks of the maximum size, then the rest; a short input is one chunk")
    func zerosAndShortInput() {
        let chunker = FastCDC(minimumSize: 4096, averageSize: 16384, maximumSize: 65536)
        let zeros = [UInt8](repeating: 0, count: 150_000)
        #expect(zeros.withUnsafeBytes { chunker.chunks(of: $0) }.map(\.count) == [65536, 65536, 18928])
        let short = [UInt8](repeating: 7, count: 4000)
        #expect(short.withUnsafeBytes { chunker.chunks(of: $0) } == [0..<4000])
        #expect([UInt8]().withUnsafeBytes { chunker.chunks(of: $0) }.isEmpty)
    }
}
