import Foundation

/// Where the off-site copies go: an S3-compatible bucket, and how long copies stay there.
///
/// Part of ``BackupSettings`` (the JSON object `offsite`). The secret access key is not here: it
/// is write-only, kept in `DATA_DIR/offsite-secret` (``OffsiteSecret``); the settings only say
/// whether one is set. Remote retention (`keep_*`, flat inside `offsite`) follows the local
/// rules and covers every type of backup; pinned backups stay.
public struct OffsiteSettings: Equatable, Sendable {
    /// Whether completed backups are copied to the bucket.
    public var enabled: Bool
    /// The S3 endpoint, an http(s) URL with a host and nothing after it
    /// (`https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`); empty until configured.
    public var endpoint: String
    /// The bucket's region (`us-east-1`; `auto` for Cloudflare R2).
    public var region: String
    /// The bucket's name, by S3's rules; empty until configured.
    public var bucket: String
    /// The folder inside the bucket, without leading or trailing `/`; empty is the bucket's root.
    public var prefix: String
    /// Path-style addressing (`endpoint/bucket/key`, MinIO's and most self-hosted servers'),
    /// rather than virtual-hosted (`bucket.endpoint/key`).
    public var pathStyle: Bool
    /// The access key id; `AWS_ACCESS_KEY_ID` in the environment overrides it.
    public var accessKeyID: String
    /// A PEM file of a private certificate authority to trust besides the system's.
    public var caFile: String?
    /// How many copies to keep in the bucket (remote retention).
    public var retention: RetentionPolicy
    /// Read-only: whether a secret access key is set, in `DATA_DIR/offsite-secret` or as
    /// `AWS_SECRET_ACCESS_KEY`. Never taken from a client.
    public var secretAccessKeySet: Bool
    /// Read-only: whether `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY` is set in the process's
    /// environment, where it overrides what is stored.
    public var credentialsFromEnvironment: Bool
    /// Whether the access key id comes from `AWS_ACCESS_KEY_ID` (judged by ``problems``; not shown).
    var accessKeyIDFromEnvironment = false

    /// The defaults: off, nothing configured, `us-east-1`, prefix `backups`, keep the last 10.
    public init(
        enabled: Bool = false, endpoint: String = "", region: String = "us-east-1", bucket: String = "",
        prefix: String = "backups", pathStyle: Bool = false, accessKeyID: String = "", caFile: String? = nil,
        retention: RetentionPolicy = OffsiteSettings.defaultRetention, secretAccessKeySet: Bool = false,
        credentialsFromEnvironment: Bool = false
    ) {
        self.enabled = enabled
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.pathStyle = pathStyle
        self.accessKeyID = accessKeyID
        self.caFile = caFile
        self.retention = retention
        self.secretAccessKeySet = secretAccessKeySet
        self.credentialsFromEnvironment = credentialsFromEnvironment
    }

    /// Remote retention's defaults: the newest 10, whatever their type.
    public static let defaultRetention = RetentionPolicy(keepLast: 10, includeManual: true)

    /// Every field a client sets, as JSON paths below `offsite.` (``BackupSettings/fieldNames``).
    static let fieldNames = [
        "enabled", "endpoint", "region", "bucket", "prefix", "path_style", "access_key_id", "secret_access_key",
        "ca_file", "keep_last", "keep_days", "keep_daily", "keep_weekly", "keep_monthly",
    ]

    /// The fields only the server sets, below `offsite.`.
    static let readOnlyFieldNames = ["secret_access_key_set", "credentials_from_environment"]

    /// The longest prefix, in bytes (S3 keys end at 1024; the bundle's name needs the rest).
    public static let maximumPrefixBytes = 512
}
