/// What a backup holds: the database, the configured file directories, or both.
public enum BackupScope: String, Codable, Sendable, CaseIterable {
    /// The SQLite database alone (every backup made before directories existed).
    case database
    /// The configured directories alone: the bundle holds no `database.sqlite`.
    case files
    /// The database and the configured directories.
    case full

    /// The scope of a bundle holding the database and/or directories; nil when it holds neither.
    public init?(holdsDatabase: Bool, holdsFiles: Bool) {
        switch (holdsDatabase, holdsFiles) {
        case (true, true): self = .full
        case (true, false): self = .database
        case (false, true): self = .files
        case (false, false): return nil
        }
    }

    /// Whether a backup of this scope holds the database.
    public var includesDatabase: Bool { self != .files }
    /// Whether a backup of this scope holds the configured directories.
    public var includesFiles: Bool { self != .database }

    /// The scope when none is asked for: `full` when directories are configured, else `database`.
    public static func automatic(directoriesConfigured: Bool) -> BackupScope {
        directoriesConfigured ? .full : .database
    }
}
