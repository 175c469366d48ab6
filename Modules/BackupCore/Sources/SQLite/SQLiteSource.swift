import Foundation

/// The protected SQLite database: written as the one entry `database.sqlite` at the archive's
/// root (every format; scripts open it there), from a consistent snapshot taken beforehand.
struct SQLiteSource: BackupSource {
    static let kind = SourceKind.sqlite
    /// The entry's name in the archive.
    static let entryName = "database.sqlite"
    /// The source's name in the manifest (and the one a format 1 bundle's database gets).
    static let defaultName = "database"

    var name = Self.defaultName
    /// The live database.
    var database: URL
    /// The snapshot to write, and what the snapshot engine found; set once the snapshot is taken.
    var snapshot: (reader: SnapshotReader, result: SnapshotResult)?

    init(database: URL, snapshot: (reader: SnapshotReader, result: SnapshotResult)? = nil) {
        self.database = database
        self.snapshot = snapshot
    }

    /// The database file and its WAL: a snapshot of the two is at most that large.
    func estimatedBytes() -> Int64 {
        let walBytes = FileOps.size(of: URL(fileURLWithPath: database.path + "-wal")) ?? 0
        return (FileOps.size(of: database) ?? 0) + walBytes
    }

    func write(into sink: BundleEntrySink, progress: (Int64) -> Void) throws(BackupError) -> Manifest.Source {
        guard let snapshot else { throw .io(path: database.path, reason: "no snapshot was taken before bundling") }
        let (reader, result) = snapshot
        try sink.addFile(size: result.byteCount, as: Self.entryName, mode: 0o644, progress: progress) {
            (buffer, offset) throws(BackupError) in try reader.read(into: buffer, at: offset)
        }
        return Manifest.Source(
            kind: .sqlite, name: name,
            sqlite: SQLiteFigures(
                path: database.path, sqliteVersion: result.sqliteVersion, pageSize: result.pageSize,
                pageCount: result.pageCount, userVersion: result.userVersion))
    }

    static func reader(extractingTo workspace: SourceWorkspace) -> any SourceEntryReader {
        Reader(extracted: workspace.database)
    }
}
