/// The part of a bundle a restore puts back (`--only`, the API's `only`).
public enum RestorePart: String, Sendable, Codable, CaseIterable {
    /// The database alone (SQLite or PostgreSQL).
    case database
    /// The directories alone.
    case files
}

/// How a restore proceeds: which part of the bundle it restores and what it keeps.
public struct RestoreOptions: Sendable, Equatable {
    /// Restore only this part; nil restores everything the bundle holds.
    public var only: RestorePart?
    /// Keep each directory's old tree as `<dir>.pre-restore-<id>` instead of removing it.
    public var keepOld: Bool
    /// Restore the PostgreSQL dump into this database instead of the live one (a rehearsal: no
    /// safety backup is taken). Refused for a SQLite location or a bundle without a PostgreSQL dump.
    public var targetURL: PostgresURL?

    public init(only: RestorePart? = nil, keepOld: Bool = false, targetURL: PostgresURL? = nil) {
        self.only = only
        self.keepOld = keepOld
        self.targetURL = targetURL
    }
}
