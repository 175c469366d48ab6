import Foundation

/// The off-site store: bundles and their `.sha256` sidecars as objects under `<prefix>/` in an
/// S3-compatible bucket (the replica of the local store, and the only copy of a remote-only
/// backup, `store = "s3"`).
///
/// Keys are bundle file names (``BundleKey``); only this type joins the prefix with them. Every
/// ``BundleStore`` requirement is blocking and reaches the async ``S3Client`` through
/// ``BlockingBridge``: call them from a thread that may block, never from the cooperative pool.
/// Each call opens a client and shuts it down when it ends; an upload from async code uses
/// ``replicate(file:sha256:as:metadata:progress:)`` directly.
public struct S3Store: BundleStore {
    /// The name the catalog records for bundles kept only in the bucket.
    public static let storeName = "s3"

    public var name: String { Self.storeName }
    let target: OffsiteTarget
    /// `backups/.tmp/`, where ``open(_:_:)`` downloads a bundle to.
    let temporary: URL

    public init(target: OffsiteTarget, temporary: URL) {
        self.target = target
        self.temporary = temporary
    }

    /// `<prefix>/<key>` (the key alone for an empty prefix).
    public func objectKey(_ key: String) -> String {
        target.prefix.isEmpty ? key : "\(target.prefix)/\(key)"
    }

    /// The listing prefix: `<prefix>/`, or nothing for the bucket's root.
    var listingPrefix: String { target.prefix.isEmpty ? "" : "\(target.prefix)/" }

    /// Runs `body` with a client of its own, shut down when `body` ends.
    func withClient<T: Sendable>(
        _ body: @escaping @Sendable (S3Client) async throws(BackupError) -> T
    ) async throws(BackupError) -> T {
        let client = try S3Client(location: target.location, credentials: target.credentials)
        do throws(BackupError) {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func blocking<T: Sendable>(
        _ body: @escaping @Sendable (S3Client) async throws(BackupError) -> T
    ) throws(BackupError) -> T {
        let store = self
        return try BlockingBridge.wait { () async throws(BackupError) -> T in try await store.withClient(body) }
    }

    /// Uploads the bundle at `file` (left in place) and its sidecar under `key`, then confirms the
    /// copy: the object's size must be the file's and the sidecar read back must name `sha256`.
    /// Only then is the copy made; returns the bundle's object key.
    public func replicate(
        file: URL, sha256: String, as key: String, metadata: [String: String],
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> String {
        let key = try BundleKey.validated(key)
        guard let size = FileOps.size(of: file) else { throw .io(path: file.path, reason: "no bundle to upload") }
        let (objectKey, sidecarKey) = (self.objectKey(key), self.objectKey(BundleName.sidecar(for: key)))
        let sidecar = Array("\(sha256)  \(key)\n".utf8)
        let contentType = CodecName.detect(fileAt: file)?.contentType ?? "application/octet-stream"
        let store = self
        return try await withClient { (client) async throws(BackupError) -> String in
            // An upload of this key a dead process left unfinished restarts from the beginning.
            _ = try await store.abortMultipartUploads(with: client, of: key, startedBefore: nil)
            let sent = try await client.upload(
                file: file, key: objectKey, contentType: contentType, metadata: metadata, progress: progress)
            try await client.put(key: sidecarKey, bytes: sidecar, contentType: "text/plain", metadata: metadata)
            guard let head = try await client.head(key: objectKey), head.size == size, sent == size else {
                throw Self.integrity("the bucket holds a different size for \(objectKey) than the \(size) bytes sent")
            }
            let stored = try await client.get(key: sidecarKey, range: nil)
            guard Self.checksum(in: stored) == sha256 else {
                throw Self.integrity("the sidecar read back from \(sidecarKey) does not name SHA-256 \(sha256)")
            }
            return objectKey
        }
    }

    /// Uploads a finished bundle from `backups/.tmp/` (consumed once confirmed).
    public func put(partial: URL, sha256: String, as key: String) throws(BackupError) {
        var metadata = ["sha256": sha256]
        if let parts = BundleName.parse(key) {
            metadata["backup-id"] = parts.id
            metadata["backup-type"] = parts.type.rawValue
            metadata["created-at"] = RFC3339.string(from: parts.createdAt)
        }
        let store = self
        let metadataToSend = metadata
        _ = try BlockingBridge.wait { () async throws(BackupError) -> String in
            try await store.replicate(file: partial, sha256: sha256, as: key, metadata: metadataToSend) { _ in }
        }
        FileOps.removeIfPresent(partial)
    }

    public func read(_ key: String, offset: Int64, length: Int) throws(BackupError) -> [UInt8] {
        let objectKey = self.objectKey(try BundleKey.validated(key))
        guard offset >= 0, length >= 0 else {
            throw .invalidQuery(parameter: "range", reason: "bytes \(offset)+\(length) lie outside the bundle")
        }
        if length == 0 { return [] }
        let range = offset...(offset + Int64(length) - 1)
        let bytes = try blocking { (client) async throws(BackupError) in
            try await client.get(key: objectKey, range: range)
        }
        guard bytes.count == length else {
            throw .invalidQuery(parameter: "range", reason: "bytes \(offset)+\(length) lie outside the bundle")
        }
        return bytes
    }

    /// Downloads the bundle into `backups/.tmp/` (streamed, hashed on the way), checks its
    /// SHA-256 against the sidecar, hands the file to `body` and removes it afterwards.
    public func open<T>(_ key: String, _ body: (URL) throws(BackupError) -> T) throws(BackupError) -> T {
        let key = try BundleKey.validated(key)
        let objectKey = self.objectKey(key)
        let sidecarKey = self.objectKey(BundleName.sidecar(for: key))
        let file = temporary.appendingPathComponent("remote-\(BackupID.make())-\(key)")
        defer { FileOps.removeIfPresent(file) }
        let (expected, actual) = try blocking { (client) async throws(BackupError) -> (String?, String) in
            let sidecar = try? await client.get(key: sidecarKey, range: nil)
            let (_, sha256) = try await client.download(key: objectKey, to: file) { _ in }
            return (sidecar.flatMap(Self.checksum(in:)), sha256)
        }
        guard let expected else { throw Self.integrity("\(sidecarKey) is missing: the download cannot be checked") }
        guard expected == actual else {
            throw .verificationFailed(
                reason: "the downloaded bundle's SHA-256 is \(actual), its sidecar says \(expected)")
        }
        return try body(file)
    }

    public func size(of key: String) throws(BackupError) -> Int64? {
        let objectKey = self.objectKey(try BundleKey.validated(key))
        return try blocking { (client) async throws(BackupError) in try await client.head(key: objectKey)?.size }
    }

    public func checksum(of key: String) throws(BackupError) -> String? {
        let sidecarKey = objectKey(BundleName.sidecar(for: try BundleKey.validated(key)))
        return try blocking { (client) async throws(BackupError) -> String? in
            guard try await client.head(key: sidecarKey) != nil else { return nil }
            return Self.checksum(in: try await client.get(key: sidecarKey, range: nil))
        }
    }

    /// Removes the bundle, then its sidecar; absent objects are not an error.
    public func delete(_ key: String) throws(BackupError) {
        let key = try BundleKey.validated(key)
        let (objectKey, sidecarKey) = (self.objectKey(key), self.objectKey(BundleName.sidecar(for: key)))
        try blocking { (client) async throws(BackupError) in
            try await client.delete(key: objectKey)
            try await client.delete(key: sidecarKey)
        }
    }

    public func location(of key: String) -> String {
        "s3://\(target.location.bucket)/\(objectKey(key))"
    }

    /// The bundles under the prefix (directly, not in sub-folders); objects that are not
    /// bundles (a shared bucket's other files, sidecars) are left out.
    public func list() throws(BackupError) -> [StoredBundle] {
        let store = self
        return try blocking { (client) async throws(BackupError) in try await store.list(with: client) }
    }

    /// ``list()`` with a client the caller holds.
    func list(with client: S3Client) async throws(BackupError) -> [StoredBundle] {
        let prefix = listingPrefix
        return try await client.list(prefix: prefix).compactMap { object in
            let name = String(object.key.dropFirst(prefix.count))
            guard object.key.hasPrefix(prefix), BundleName.parse(name) != nil else { return nil }
            return StoredBundle(key: name, sizeBytes: object.size)
        }
    }

    /// Aborts the multipart uploads of our bundles under the prefix (a dead process's, whose
    /// parts would otherwise be kept and billed forever): those started before `cutoff`, or every
    /// one when it is nil; only keys of `key` when given. Returns how many were aborted.
    func abortMultipartUploads(
        with client: S3Client, of key: String? = nil, startedBefore cutoff: Date?
    ) async throws(BackupError) -> Int {
        let prefix = key.map(objectKey) ?? listingPrefix
        var aborted = 0
        for upload in try await client.multipartUploads(prefix: prefix) {
            let name = String(upload.key.dropFirst(listingPrefix.count))
            guard upload.key.hasPrefix(listingPrefix), BundleName.parse(name) != nil else { continue }
            if let cutoff, let initiated = upload.initiated, initiated >= cutoff { continue }
            try await client.abort(upload)
            aborted += 1
        }
        return aborted
    }

    /// The checksum a sidecar's text names (`<sha256>  <name>`).
    static func checksum(in sidecar: [UInt8]) -> String? {
        let text = String(decoding: sidecar.prefix(4096), as: UTF8.self)
        guard let first = text.split(separator: " ", maxSplits: 1).first, first.utf8.count == 64,
            first.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        return String(first)
    }

    static func integrity(_ detail: String) -> BackupError {
        .offsite(OffsiteFailure(kind: .integrity, detail: detail))
    }
}
