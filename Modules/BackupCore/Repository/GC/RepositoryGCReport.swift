import Foundation

/// What a garbage collection of the repository did or, in a dry run, would do.
public struct RepositoryGCReport: Codable, Equatable, Sendable {
    /// Packs deleted: none of their chunks was live any more (or, without rows, none was needed).
    public var packsDeleted = 0
    /// Mostly dead packs whose live chunks were written into new packs before they were deleted.
    public var packsRepacked = 0
    /// Bytes of pack files deleted, less those of the new packs a repack wrote (in a dry run,
    /// an estimate: the dead bytes).
    public var bytesFreed: Int64 = 0
    /// Pack files without rows (a crash before their rows went in) recorded again because an
    /// index needs them.
    public var packsRecovered = 0
    /// Packs the catalog listed whose file was gone; their rows were dropped.
    public var packsLost: [String] = []
    /// Backups marked `missing` because a chunk they need was only in a lost pack.
    public var backupsMissing: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case packsDeleted = "packs_deleted"
        case packsRepacked = "packs_repacked"
        case bytesFreed = "bytes_freed"
        case packsRecovered = "packs_recovered"
        case packsLost = "packs_lost"
        case backupsMissing = "backups_missing"
    }
}
