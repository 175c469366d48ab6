import Foundation

/// An object in the bucket, as HeadObject or ListObjectsV2 describes it.
public struct S3Object: Sendable, Equatable {
    /// The full key (the prefix included).
    public var key: String
    public var size: Int64
    public var lastModified: Date?
    /// The ETag without its quotes.
    public var eTag: String?
    /// The `x-amz-meta-*` metadata, names without the prefix and in lower case. HeadObject
    /// fills it; ListObjectsV2 does not carry metadata, so listed objects have none.
    public var metadata: [String: String]

    public init(key: String, size: Int64, lastModified: Date?, eTag: String?, metadata: [String: String] = [:]) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.eTag = eTag
        self.metadata = metadata
    }
}

/// A multipart upload that was started and neither completed nor aborted.
public struct S3MultipartUpload: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    public var initiated: Date?

    public init(key: String, uploadID: String, initiated: Date?) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}
