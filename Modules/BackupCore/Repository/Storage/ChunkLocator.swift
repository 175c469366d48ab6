import Foundation

/// Where a stored chunk lies: its pack's name and its place in that pack.
struct ChunkLocation: Equatable, Sendable {
    /// The pack's name (the SHA-256 of its file, hex; see ``RepositoryLayout/pack(_:encrypted:)``).
    var pack: String
    var entry: PackEntry
}

/// Finds chunks by their SHA-256: the catalog's `chunk` table (a cache, rebuilt from the packs'
/// trailers), or the trailers themselves when there is no catalog (a repository read on another
/// machine). Blocking: called on the job's thread.
protocol ChunkLocator {
    /// Where the chunk with this SHA-256 (hex) lies; nil when the repository does not hold it.
    func locate(_ sha256: String) throws(BackupError) -> ChunkLocation?
}
