import Foundation

/// Everything replication needs to reach the bucket: where, with which keys, under which
/// prefix, and how long copies stay there (``BackupService/offsiteTarget()``).
public struct OffsiteTarget: Sendable {
    public var location: S3Location
    public var credentials: S3Credentials
    /// The folder in the bucket, without leading or trailing `/` (empty: the bucket's root).
    public var prefix: String
    public var retention: RetentionPolicy

    public init(location: S3Location, credentials: S3Credentials, prefix: String, retention: RetentionPolicy) {
        self.location = location
        self.credentials = credentials
        self.prefix = prefix
        self.retention = retention
    }
}
