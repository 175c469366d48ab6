/// A note Backup Manager writes itself. The record keeps its kind and arguments, not a
/// sentence, so each face words it in its reader's language (the CLI in English, the page from
/// its catalogs as `note.<kind>`); `note` stays for what people write.
public enum NoteKind: String, Codable, Sendable, CaseIterable {
    /// The safety backup taken before a restore. Argument `backup_id`: the backup restored
    /// (absent when the restore came from a file without one).
    case preRestore = "pre_restore"

    /// The note in English.
    public func english(_ arguments: [String: String]) -> String {
        switch self {
        case .preRestore: arguments["backup_id"].map { "before restoring \($0)" } ?? "before restoring a file"
        }
    }
}
