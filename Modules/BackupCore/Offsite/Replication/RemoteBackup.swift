import Foundation

/// A backup as the bucket holds it (`backup remote list`, `GET /api/remote/backups`): what its
/// object's name and size say, and whether this machine also has it locally.
public struct RemoteBackup: Codable, Equatable, Sendable {
    public var id: String
    public var type: BackupType
    public var createdAt: Date
    public var filename: String
    /// The object's key in the bucket.
    public var key: String
    public var sizeBytes: Int64
    /// Whether this data directory also holds the bundle (a local record with its file).
    public var local: Bool

    enum CodingKeys: String, CodingKey {
        case id, type
        case createdAt = "created_at"
        case filename, key
        case sizeBytes = "size_bytes"
        case local
    }
}
