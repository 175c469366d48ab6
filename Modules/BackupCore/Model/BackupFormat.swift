/// How a backup is stored: a self-contained bundle (a compressed tar) or an incremental backup
/// in the repository (an index naming deduplicated chunks in shared packs).
public enum BackupFormat: String, Codable, Sendable, CaseIterable {
    /// A `.tar.gz` / `.tar.zst` bundle holding every byte (every backup made before issue 20).
    case bundle
    /// An index in `backups/repository/index/`, whose chunks live in the repository's packs: a
    /// backup adds only the chunks no earlier backup stored.
    case incremental
}
