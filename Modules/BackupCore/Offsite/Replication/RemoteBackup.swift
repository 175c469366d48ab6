import Foundation

/// A backup as the bucket holds it (`backup remote list`, `GET /api/remote/backups`): a bundle,
/// as its object's name and size say, or an incremental backup, as its index in the bucket's
/// repository and that object's metadata say; and whether this machine also has it locally.
public struct RemoteBackup: Codable, Equatable, Sendable {
    public var id: String
    public var type: BackupType
    public var createdAt: Date
    /// The bundle's file name, or the incremental backup's index file name.
    public var filename: String
    /// The object's key in the bucket (the bundle, or the index under `<prefix>/repository/index/`).
    public var key: String
    /// The bundle's size; for an incremental backup, the bytes it added to the repository.
    public var sizeBytes: Int64
    /// Whether this data directory also holds the bundle (a local record with its file), or the
    /// incremental backup's index in its local repository.
    public var local: Bool
    /// `bundle`, or `incremental` (an index whose chunks are in the bucket's repository packs).
    public var format: BackupFormat = .bundle
    /// The bytes the backup restores to, when known (an incremental backup's; nil for a bundle).
    public var logicalBytes: Int64?
    /// The SHA-256 of the stored file (the index's, for an incremental backup) when the listing
    /// learnt it; what adoption records. Not shown.
    var sha256: String?

    enum CodingKeys: String, CodingKey {
        case id, type
        case createdAt = "created_at"
        case filename, key
        case sizeBytes = "size_bytes"
        case local, format
        case logicalBytes = "logical_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(filename, forKey: .filename)
        try container.encode(key, forKey: .key)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(local, forKey: .local)
        try container.encode(format, forKey: .format)
        try container.encode(logicalBytes, forKey: .logicalBytes)
    }
}
