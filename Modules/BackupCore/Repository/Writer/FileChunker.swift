import Foundation

/// Cuts one regular file's data, arriving in pieces of any size, into the chunks its path calls
/// for (``chunking(for:size:)``), handing each to `emit` in order.
///
/// Blocking: runs on the writer's thread. Holds at most one largest chunk plus one piece.
struct FileChunker {
    /// A SQLite database: 64 KiB, 16 pages of 4 KiB, a whole number of pages for every page size
    /// up to 64 KiB, so an unchanged group of pages is an unchanged chunk.
    static let databaseChunk = 64 * 1024
    /// A PostgreSQL dump (`pg_dump -Fc`, whose data shifts with every change).
    static let dumpChunking = RepositoryIndex.Chunking.fastCDC(
        minimum: 64 * 1024, average: 256 * 1024, maximum: 1024 * 1024)
    /// A directory's file of at least ``wholeFileLimit`` bytes (and anything else).
    static let fileChunking = RepositoryIndex.Chunking.fastCDC(
        minimum: 256 * 1024, average: 1024 * 1024, maximum: 4 * 1024 * 1024)
    /// Smaller files are one chunk each (a renamed or copied file costs nothing).
    static let wholeFileLimit = 1024 * 1024

    /// How the entry at `path` of `size` bytes is cut: `database.sqlite` in fixed 64 KiB
    /// chunks, `database.pgdump` content-defined around 256 KiB, a file below ``wholeFileLimit``
    /// whole (recorded as fixed chunks of that limit: exactly one), larger ones content-defined
    /// around 1 MiB.
    static func chunking(for path: String, size: Int64) -> RepositoryIndex.Chunking {
        switch path {
        case SQLiteSource.entryName: return .fixed(bytes: databaseChunk)
        case PostgresSource.entryName: return dumpChunking
        default: return size < Int64(wholeFileLimit) ? .fixed(bytes: wholeFileLimit) : fileChunking
        }
    }

    let chunking: RepositoryIndex.Chunking
    private let cdc: FastCDC?
    /// The largest window a cut needs: the fixed size, or FastCDC's maximum.
    private let window: Int
    /// Bytes received and not yet cut, from ``start``.
    private var buffer: [UInt8] = []
    private var start = 0

    init(_ chunking: RepositoryIndex.Chunking) {
        self.chunking = chunking
        switch chunking {
        case .fixed(let bytes):
            cdc = nil
            window = bytes
        case .fastCDC(let minimum, let average, let maximum):
            cdc = FastCDC(minimumSize: minimum, averageSize: average, maximumSize: maximum)
            window = maximum
        }
        buffer.reserveCapacity(window + 256 * 1024)
    }

    /// Takes the next piece of the file; every chunk that is now complete goes to `emit`.
    mutating func add(
        _ piece: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws(BackupError) -> Void
    ) throws(BackupError) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: piece)
        try cut(final: false, emit: emit)
    }

    /// The file is complete: the bytes left are its last chunks.
    mutating func finish(emit: (UnsafeRawBufferPointer) throws(BackupError) -> Void) throws(BackupError) {
        try cut(final: true, emit: emit)
        buffer.removeAll(keepingCapacity: false)
        start = 0
    }

    /// Cuts while a whole window is buffered (or, at the end, while anything is).
    private mutating func cut(
        final: Bool, emit: (UnsafeRawBufferPointer) throws(BackupError) -> Void
    ) throws(BackupError) {
        var failure: BackupError?
        var start = self.start
        let (window, cdc) = (self.window, self.cdc)
        buffer.withUnsafeBytes { bytes in
            while bytes.count - start >= window || (final && start < bytes.count) {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
                let length = cdc?.cut(rest).length ?? min(window, rest.count)
                do throws(BackupError) {
                    try emit(UnsafeRawBufferPointer(rebasing: rest[0..<length]))
                } catch {
                    failure = error
                    return
                }
                start += length
            }
        }
        self.start = start
        if let failure { throw failure }
    }
}
