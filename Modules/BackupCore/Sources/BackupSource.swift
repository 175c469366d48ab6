import Foundation

/// One thing a backup protects, seen from the bundle: how big it is, how its entries are
/// written, checked and restored. A new kind (a directory, a PostgreSQL dump) adds a type
/// beside ``SQLiteSource`` and a ``SourceKind`` case; the writer and the verifier do not change.
///
/// Writing runs on the bundle writer's thread and may block; it must not await.
protocol BackupSource: Sendable {
    /// The kind written into the manifest.
    static var kind: SourceKind { get }
    /// The source's name in the manifest, unique within a bundle.
    var name: String { get }
    /// Bytes the source's entries take before compression, for the space check and progress.
    func estimatedBytes() -> Int64
    /// Writes the source's entries through `sink` and returns what the manifest says about it.
    /// `progress` gets the bytes written so far.
    func write(into sink: BundleEntrySink, progress: (Int64) -> Void) throws(BackupError) -> Manifest.Source
    /// Reads this kind's entries back out of a bundle, for verification and restore.
    static func reader(extractingTo workspace: SourceWorkspace) -> any SourceEntryReader
    /// Puts the verified entries in `workspace` in place of the live data. `underLock` runs once
    /// the application's writers are held off (the safety backup is taken there).
    ///
    /// - Parameter writersWaited: set to how long the application's writers waited, also on failure.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: () async throws(BackupError) -> Void
    ) async throws(BackupError)
}

/// Where a verification puts the entries it extracts.
struct SourceWorkspace: Sendable {
    /// The SQLite database's file (kept for a restore when verification passes).
    var database: URL
    /// The PostgreSQL dump's file (kept likewise).
    var pgdump: URL
    /// Where `pg_restore` is found (the dump's check runs `pg_restore --list`).
    var postgres: PostgresEnvironment

    /// - Parameter pgdump: nil: beside `database`, with the extension `pgdump`.
    init(database: URL, pgdump: URL? = nil, postgres: PostgresEnvironment = .process) {
        self.database = database
        self.pgdump = pgdump ?? database.deletingPathExtension().appendingPathExtension("pgdump")
        self.postgres = postgres
    }
}
