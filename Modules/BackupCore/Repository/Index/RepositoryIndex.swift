import Foundation

/// `index/<backup-id>.json.zst` (`.json.zst.age` when encrypted): one incremental backup, whole.
///
/// The index *is* the backup: it is written (atomically, after every pack it needs is durable)
/// last, so its presence means the backup is complete. It holds the backup's format 2 manifest
/// (every entry with its size, SHA-256, mode and mtime, exactly as a bundle of the same sources
/// would list it) and, for every regular file among the entries, the ordered SHA-256 of its
/// chunks. A file's bytes are its chunks concatenated; where each chunk lies is not recorded
/// here (a ``ChunkLocator`` finds it: the catalog's `chunk` table, or the packs' trailers), so
/// moving chunks between packs (repack) never rewrites an index.
///
/// An export walks the manifest's entries in order and writes each as a tar entry with the
/// same metadata, a regular file's data from its chunks: a classic bundle that verifies like any
/// other (see `docs/bundle-format.md`, "Repository").
struct RepositoryIndex: Codable, Equatable, Sendable {
    /// How a source's files were cut into chunks (recorded for the reader's information: the
    /// chunk lists alone restore the bytes).
    enum Chunking: Codable, Equatable, Sendable {
        /// Fixed-size chunks of `bytes` from the start of the file (a SQLite database: a whole
        /// number of pages, so an unchanged page group is an unchanged chunk).
        case fixed(bytes: Int)
        /// Content-defined chunks (``FastCDC``) of these sizes; files smaller than `minimum`
        /// are one chunk.
        case fastCDC(minimum: Int, average: Int, maximum: Int)

        enum CodingKeys: String, CodingKey { case kind, bytes, minimum, average, maximum }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(String.self, forKey: .kind) {
            case "fixed": self = .fixed(bytes: try container.decode(Int.self, forKey: .bytes))
            case "fastcdc":
                self = .fastCDC(
                    minimum: try container.decode(Int.self, forKey: .minimum),
                    average: try container.decode(Int.self, forKey: .average),
                    maximum: try container.decode(Int.self, forKey: .maximum))
            case let kind:
                throw DecodingError.dataCorruptedError(
                    forKey: .kind, in: container, debugDescription: "unknown chunking \(kind)")
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .fixed(let bytes):
                try container.encode("fixed", forKey: .kind)
                try container.encode(bytes, forKey: .bytes)
            case .fastCDC(let minimum, let average, let maximum):
                try container.encode("fastcdc", forKey: .kind)
                try container.encode(minimum, forKey: .minimum)
                try container.encode(average, forKey: .average)
                try container.encode(maximum, forKey: .maximum)
            }
        }
    }

    /// One regular file's chunks, by its path among the manifest's entries.
    struct File: Codable, Equatable, Sendable {
        /// The entry's path (`database.sqlite`, `files/uploads/a.jpg`).
        var path: String
        var chunking: Chunking
        /// SHA-256 (hex) of each chunk, in order; empty for an empty file.
        var chunks: [String]
    }

    static let formatName = "incremental"
    static let currentVersion = 1

    /// Always ``formatName``: tells an index from anything else at a glance.
    var format: String = Self.formatName
    var version: Int = Self.currentVersion
    /// The backup's manifest (format 2, entries included), as its bundle would hold it.
    var manifest: Manifest
    /// Every regular file among ``Manifest/entries``, in the same order.
    var files: [File]

    enum CodingKeys: String, CodingKey { case format, version, manifest, files }

    /// Bytes the backup restores to: the sum of its files' sizes.
    var logicalBytes: Int64 { manifest.entries.reduce(Int64(0)) { $0 + $1.size } }

    /// Every chunk the backup needs, each once.
    var chunkSet: Set<String> { Set(files.lazy.flatMap(\.chunks)) }
}
