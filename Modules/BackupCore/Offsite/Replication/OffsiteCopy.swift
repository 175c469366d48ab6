import Foundation
import GRDB

/// Where a backup's off-site copy stands.
public enum OffsiteStatus: String, Codable, Sendable, CaseIterable {
    /// No copy is wanted (off-site storage was off when the backup completed) or none is left.
    case none
    /// A copy is wanted and not yet made (waiting for its upload, or for a retry).
    case pending
    /// An upload runs.
    case uploading
    /// The bucket holds the bundle and its sidecar, their size and checksum confirmed.
    case uploaded
    /// The last upload failed (see ``OffsiteCopy/error``); it is retried.
    case failed

    /// Whether the backup still waits for its copy: local retention never deletes its only
    /// bundle then.
    public var isAwaitingUpload: Bool { self == .pending || self == .uploading || self == .failed }
}

extension OffsiteStatus: DatabaseValueConvertible {}

/// A backup's off-site copy, as the faces show it (`BackupInfo.offsite`).
public struct OffsiteCopy: Codable, Equatable, Sendable {
    public var status: OffsiteStatus
    /// The object's key in the bucket (`prefix/backup-….tar.gz`), once known.
    @ExplicitNull public var key: String?
    @ExplicitNull public var uploadedAt: Date?
    /// Why the last upload failed.
    @ExplicitNull public var error: String?

    public init(status: OffsiteStatus, key: String? = nil, uploadedAt: Date? = nil, error: String? = nil) {
        self.status = status
        self.key = key
        self.uploadedAt = uploadedAt
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case status, key
        case uploadedAt = "uploaded_at"
        case error
    }

    /// No copy.
    public static let none = OffsiteCopy(status: .none)
}
