import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the wal-index (the `-shm` file beside a WAL-mode database) says about the WAL: how many
/// frames it holds and how many of them a checkpoint has copied back into the database file.
///
/// The layout is SQLite's file format (<https://www.sqlite.org/walformat.html>), shared by every
/// process and every SQLite version since 3.7.0: two copies of a 48-byte header (writers update
/// the second copy, then the first; a reader trusts them only when they match), then the
/// checkpoint information, whose first field is `nBackfill`. Integers are in native byte order.
struct WALIndex: Equatable {
    /// The last valid frame in the WAL (`mxFrame`).
    var lastFrame: UInt32
    /// Frames copied back into the database file (`nBackfill`).
    var backfilledFrames: UInt32

    /// Every frame of the WAL is also in the database file.
    var isFullyBackfilled: Bool { lastFrame == backfilledFrames }

    private static let headerSize = 48
    private static let versionOffset = 0
    private static let isInitOffset = 12
    private static let lastFrameOffset = 16
    private static let backfillOffset = 96
    private static let walIndexVersion: UInt32 = 3_007_000

    /// Reads the wal-index of the database at `database`; nil when there is none, or when it
    /// cannot be trusted right now (not initialised, an unknown version, the two header copies
    /// differ because a writer is updating them).
    ///
    /// `nBackfill` is read before the header, on purpose: while the caller holds a read
    /// transaction, `nBackfill` only grows up to the caller's read mark and `mxFrame` is at
    /// least that mark, so equal values read in this order prove the database file holds every
    /// frame the caller's snapshot includes (see ``SnapshotEngine``).
    static func read(database: URL) -> WALIndex? {
        let descriptor = open(database.path + "-shm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { _ = close(descriptor) }

        var backfill: UInt32 = 0
        guard pread(descriptor, &backfill, 4, off_t(backfillOffset)) == 4 else { return nil }
        var header = [UInt8](repeating: 0, count: 2 * headerSize)
        let count = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, 0) }
        guard count == header.count else { return nil }
        guard header[0..<headerSize] == header[headerSize..<(2 * headerSize)] else { return nil }
        guard header[isInitOffset] == 1, word(header, at: versionOffset) == walIndexVersion else { return nil }
        return WALIndex(lastFrame: word(header, at: lastFrameOffset), backfilledFrames: backfill)
    }

    private static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }
}
