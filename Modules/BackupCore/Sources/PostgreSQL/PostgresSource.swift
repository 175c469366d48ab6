import Foundation

/// The protected PostgreSQL database: dumped by `pg_dump --format=custom` into a spool file
/// under `backups/.tmp/` (seekable, so the dump keeps its data offsets), then written as the
/// one entry `database.pgdump` at the archive's root (restorable with `pg_restore` as it is).
struct PostgresSource: BackupSource {
    static let kind = SourceKind.postgresql
    /// The entry's name in the archive.
    static let entryName = "database.pgdump"
    /// The source's name in the manifest.
    static let defaultName = "database"

    var name = Self.defaultName
    /// The live database.
    var url: PostgresURL
    /// Where the tools are found and what libpq reads.
    var environment: PostgresEnvironment
    /// The dump to write and what the manifest says of it; set once the dump is taken
    /// (``dump(to:server:tick:)``).
    var dump: (spool: URL, figures: PostgresFigures)?

    init(url: PostgresURL, environment: PostgresEnvironment, dump: (spool: URL, figures: PostgresFigures)? = nil) {
        self.url = url
        self.environment = environment
        self.dump = dump
    }

    /// The spool's size once dumped; before, nothing is known without asking the server
    /// (``probe()`` does, on a blocking thread).
    func estimatedBytes() -> Int64 {
        dump.flatMap { FileOps.size(of: $0.spool) } ?? 0
    }

    func write(into sink: BundleEntrySink, progress: (Int64) -> Void) throws(BackupError) -> Manifest.Source {
        guard let dump else { throw .io(path: url.redacted, reason: "no dump was taken before bundling") }
        try sink.addFile(dump.spool, as: Self.entryName, mode: 0o644, progress: progress)
        return Manifest.Source(kind: .postgresql, name: name, postgresql: dump.figures)
    }

    static func reader(extractingTo workspace: SourceWorkspace) -> any SourceEntryReader {
        Reader(extracted: workspace.pgdump, environment: workspace.postgres)
    }
}
