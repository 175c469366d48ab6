/// The kinds of source a bundle can hold; the manifest names each source's kind.
public enum SourceKind: String, Codable, Sendable, CaseIterable {
    /// A SQLite database, snapshotted with the online backup API.
    case sqlite
    /// A directory tree beside the database (uploads, attachments), under `files/<name>/`.
    case directory
}
