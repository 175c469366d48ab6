import Foundation

/// What a tar entry is: the three kinds a bundle holds.
public enum TarEntryType: String, Codable, Sendable {
    case file
    case directory
    case symlink
}

/// One tar entry's header, as the writer frames it and the reader gives it back after validation.
struct TarEntry: Equatable, Sendable {
    /// The path inside the archive, `/`-separated, relative, without a trailing `/`.
    var path: String
    var type: TarEntryType = .file
    /// Bytes of data that follow the header (0 for directories and symlinks).
    var size: Int64 = 0
    /// Permission bits (`0o644`); the file type is carried by ``type``.
    var mode: Int = 0o644
    /// Modification time, whole seconds since 1970 (what tar keeps).
    var mtime: Int64 = 0
    /// Where a symlink points.
    var linkTarget: String?
}
