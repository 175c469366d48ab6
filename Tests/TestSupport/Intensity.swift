import Foundation

/// How hard the reliability suite pushes: the short variant in `make test`, the long one
/// (`BACKUP_TEST_LONG=1`, set by `make test-long`).
public enum Intensity {
    public static var isLong: Bool { ProcessInfo.processInfo.environment["BACKUP_TEST_LONG"] == "1" }

    /// `short` in the ordinary run, `long` under `BACKUP_TEST_LONG=1`.
    public static func count(short: Int, long: Int) -> Int { isLong ? long : short }

    /// `BACKUP_TEST_SEED` when set (to replay a run), else a fresh seed.
    public static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["BACKUP_TEST_SEED"], let seed = UInt64(text) { return seed }
        var generator = SystemRandomNumberGenerator()
        return generator.next() & 0xFFFF_FFFF
    }

    /// Prints one line of figures for `docs/reliability.md`, marked so `make` can collect them.
    public static func figure(_ line: String) {
        FileHandle.standardOutput.write(Data("reliability figure: \(line)\n".utf8))
    }
}

/// SplitMix64: a small seeded generator, so a failing run can be replayed from its printed seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
