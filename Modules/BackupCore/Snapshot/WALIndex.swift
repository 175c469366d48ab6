import Foundation
import GRDB
import GRDBSQLite
import Synchronization

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

    /// Reads the wal-index of `database`'s connection, through SQLite's own mapping of it
    /// (`xShmMap` on the connection's file); nil when there is none, or when it cannot be
    /// trusted right now (not initialised, an unknown version, the two header copies differ
    /// because a writer is updating them).
    ///
    /// Never through a descriptor of ours: SQLite's WAL locks are POSIX locks on the `-shm`
    /// file, and closing any descriptor of it would release every one this process holds (a
    /// restore's write lock, the read mark that pins a snapshot).
    ///
    /// `nBackfill` is read before the header, on purpose: while the caller holds a read
    /// transaction, `nBackfill` only grows up to the caller's read mark and `mxFrame` is at
    /// least that mark, so equal values read in this order prove the database file holds every
    /// frame the caller's snapshot includes (see ``SnapshotEngine``).
    static func read(connection database: Database) -> WALIndex? {
        var pointer: UnsafeMutableRawPointer?
        let rc = sqlite3_file_control(database.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &pointer)
        guard rc == SQLITE_OK, let file = pointer?.assumingMemoryBound(to: sqlite3_file.self),
            let methods = file.pointee.pMethods, methods.pointee.iVersion >= 2,
            let shmMap = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 is mapped already while the connection reads in WAL mode; 32 KiB is its size.
        let mapped = withUnsafeMutablePointer(to: &region) { out in
            out.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { shmMap(file, 0, 32 * 1024, 0, $0) }
        }
        guard mapped == SQLITE_OK, let base = region else { return nil }

        let backfill = base.load(fromByteOffset: backfillOffset, as: UInt32.self)
        atomicMemoryFence(ordering: .acquiring)
        let header = [UInt8](UnsafeRawBufferPointer(start: base, count: 2 * headerSize))
        guard header[0..<headerSize] == header[headerSize..<(2 * headerSize)] else { return nil }
        guard header[isInitOffset] == 1, word(header, at: versionOffset) == walIndexVersion else { return nil }
        return WALIndex(lastFrame: word(header, at: lastFrameOffset), backfilledFrames: backfill)
    }

    private static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }
}
