/// The kinds of source a bundle can hold; the manifest names each source's kind.
public enum SourceKind: String, Codable, Sendable, CaseIterable {
    /// A SQLite database, snapshotted with the online backup API.
    case sqlite
    /// A directory tree beside the database (uploads, attachments), under `files/<name>/`.
    case directory
    /// A PostgreSQL database, dumped with `pg_dump --format=custom` as `database.pgdump`.
    case postgresql

    /// The kind's name for a person ("SQLite", "PostgreSQL", "directory").
    public var displayName: String {
        switch self {
        case .sqlite: "SQLite"
        case .directory: "directory"
        case .postgresql: "PostgreSQL"
        }
    }

    /// Whether this kind is the protected database (as opposed to a directory beside it).
    public var isDatabase: Bool { self != .directory }
}
