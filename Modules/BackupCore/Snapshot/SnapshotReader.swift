import Foundation
import GRDB
import GRDBSQLite

/// Reads the bytes of a snapshot (``SnapshotView``) at a given offset.
///
/// The live database is read through SQLite's own file handle (`SQLITE_FCNTL_FILE_POINTER`),
/// never through a descriptor of ours: POSIX advisory locks belong to the process, and closing
/// any descriptor of a file releases every lock the process holds on it, so opening and closing
/// the database file beside SQLite would silently drop the read lock that pins the snapshot and
/// the write lock a restore holds (<https://www.sqlite.org/howtocorrupt.html>, section 2.2).
public final class SnapshotReader: @unchecked Sendable {
    private enum Handle {
        case sqlite(UnsafeMutablePointer<sqlite3_file>, path: String)
        case file(InputFile)
    }

    private let handle: Handle

    /// Reads a file of our own (the copy made by the backup API), with a descriptor of its own.
    init(copy url: URL) throws(BackupError) {
        handle = .file(try InputFile(reading: url))
    }

    /// Reads the main database file of `database`'s connection through SQLite's file handle;
    /// nil when the VFS does not give one. Valid while the connection stays open and is used
    /// from its own thread only.
    init?(connection database: Database, path: String) {
        var pointer: UnsafeMutableRawPointer?
        let rc = sqlite3_file_control(database.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &pointer)
        guard rc == SQLITE_OK, let file = pointer?.assumingMemoryBound(to: sqlite3_file.self),
            file.pointee.pMethods?.pointee.xRead != nil
        else { return nil }
        handle = .sqlite(file, path: path)
    }

    /// Fills `buffer` with the bytes at `offset`; fewer bytes only at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(BackupError) -> Int {
        switch handle {
        case .file(let input):
            return try input.readFully(into: buffer, at: offset)
        case .sqlite(let file, let path):
            guard buffer.count > 0 else { return 0 }
            let rc = file.pointee.pMethods!.pointee.xRead!(file, buffer.baseAddress, Int32(buffer.count), offset)
            if rc == SQLITE_OK { return buffer.count }
            // A short read zero-fills the rest; the caller asked for no more than the snapshot holds.
            if rc == SQLITE_IOERR | (2 << 8) {  // SQLITE_IOERR_SHORT_READ
                throw .io(path: path, reason: "the database file ended before the snapshot's last page")
            }
            throw .sourceUnavailable(path: path, reason: "read failed (SQLite error \(rc))")
        }
    }
}
