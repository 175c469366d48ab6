import Foundation

// PLACEHOLDER until the s3client and offsite-settings branches are merged: the shared design's
// API, so the replication code builds. Deleted at the merge.

public struct S3Location: Sendable, Equatable {
    public var endpoint: URL
    public var region: String
    public var bucket: String
    public var pathStyle: Bool
    public var caFile: String?
}

public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
}

public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var lastModified: Date?
    public var eTag: String?
    public var metadata: [String: String]
}

public struct S3MultipartUpload: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    public var initiated: Date?
}

public final class S3Client: Sendable {
    public init(location: S3Location, credentials: S3Credentials) throws(BackupError) {}
    public func shutdown() async {}
    public func put(
        key: String, bytes: [UInt8], contentType: String, metadata: [String: String]
    ) async throws(BackupError) { throw Self.absent }
    public func upload(
        file: URL, key: String, contentType: String, metadata: [String: String],
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> Int64 { throw Self.absent }
    public func head(key: String) async throws(BackupError) -> S3Object? { throw Self.absent }
    public func list(prefix: String) async throws(BackupError) -> [S3Object] { throw Self.absent }
    public func get(key: String, range: ClosedRange<Int64>?) async throws(BackupError) -> [UInt8] { throw Self.absent }
    public func download(
        key: String, to file: URL, progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> (Int64, String) { throw Self.absent }
    public func delete(key: String) async throws(BackupError) { throw Self.absent }
    public func multipartUploads(prefix: String) async throws(BackupError) -> [S3MultipartUpload] { throw Self.absent }
    public func abort(_ upload: S3MultipartUpload) async throws(BackupError) { throw Self.absent }
    public func presignedGet(key: String, expires: Duration, now: Date) throws(BackupError) -> URL { throw Self.absent }
    static var absent: BackupError { .io(path: "s3", reason: "no S3 client yet") }
}

public struct OffsiteTarget: Sendable {
    public var location: S3Location
    public var credentials: S3Credentials
    public var prefix: String
    public var retention: RetentionPolicy
}

extension BackupService {
    public func offsiteTarget() throws(BackupError) -> OffsiteTarget? { nil }
}
