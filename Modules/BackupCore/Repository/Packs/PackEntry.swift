import Foundation

/// Where one chunk lies in a pack file: its SHA-256 (of the chunk as it was, before
/// compression), the byte range of its zstd frame in the pack, and its size once decompressed.
struct PackEntry: Codable, Equatable, Sendable {
    var sha256: String
    var offset: Int64
    var length: Int64
    var rawLength: Int64

    enum CodingKeys: String, CodingKey {
        case sha256, offset, length
        case rawLength = "raw_length"
    }
}

/// A pack file's layout, shared by ``PackWriter`` and ``PackReader``: the magic line, the chunks
/// (one zstd frame each), a JSON trailer listing them (``PackTrailer``), and the trailer's
/// length as 8 bytes big-endian at the very end. Every frame opens with `zstd -d` given its
/// byte range; the trailer alone tells what a pack holds (a lost index is rebuilt from it).
enum PackFormat {
    static let magic = Array("BMPACK1\n".utf8)
    static let version = 1
    /// The largest trailer a reader accepts (about 100 bytes per chunk).
    static let maximumTrailerBytes: Int64 = 64 << 20
}

/// The JSON at the end of a pack.
struct PackTrailer: Codable, Equatable, Sendable {
    var version: Int
    var chunks: [PackEntry]
}
