import Crypto
import Foundation

/// The off-site copy of the incremental repository: the same files as the local one
/// (``RepositoryLayout``) under `<prefix>/repository/` in the bucket. Packs are immutable and
/// named by their SHA-256, so a pack is uploaded once and shared by every backup that needs it;
/// a backup is complete off-site once its index is there, uploaded last.
///
/// Only this type joins `<prefix>/repository/` with the repository's relative paths.
struct RemoteRepository: Sendable {
    let store: S3Store

    /// `<prefix>/repository/` (`repository/` for an empty prefix).
    var rootKey: String { store.objectKey(RepositoryLayout.directoryName) + "/" }

    /// The object key of the repository's file at relative path `relative`.
    func key(_ relative: String) -> String { rootKey + relative }

    /// The repository's objects in the bucket, by relative path, with their sizes.
    func listing(with client: S3Client, under folder: String = "") async throws(BackupError) -> [String: Int64] {
        let root = rootKey
        var sizes: [String: Int64] = [:]
        for object in try await client.list(prefix: root + folder) where object.key.hasPrefix(root) {
            sizes[String(object.key.dropFirst(root.count))] = object.size
        }
        return sizes
    }

    /// Uploads the local file `file` to `relative`, then checks the bucket holds its size.
    func upload(
        _ file: URL, as relative: String, with client: S3Client, metadata: [String: String] = [:],
        progress: @escaping @Sendable (Int64) -> Void = { _ in }
    ) async throws(BackupError) {
        let objectKey = key(relative)
        let sent = try await client.upload(
            file: file, key: objectKey, contentType: "application/octet-stream", metadata: metadata,
            progress: progress)
        guard let head = try await client.head(key: objectKey), head.size == sent else {
            throw S3Store.integrity("the bucket holds a different size for \(objectKey) than the \(sent) bytes sent")
        }
    }
}

extension RemoteRepository {
    /// A pack in the bucket's listing.
    struct Pack: Sendable {
        var name: String
        var relative: String
        var size: Int64
        var encrypted: Bool
    }

    /// The packs of `listing` (`packs/aa/<name>.pack[.age]`), by relative path.
    static func packs(in listing: [String: Int64]) -> [Pack] {
        listing.compactMap { relative, size -> Pack? in
            guard relative.hasPrefix(RepositoryLayout.packsFolder + "/") else { return nil }
            for encrypted in [false, true] {
                let file = relative.split(separator: "/").last.map(String.init) ?? ""
                let name = String(file.prefix(while: { $0 != "." }))
                if RepositoryLayout.isPackName(name), relative == RepositoryLayout.pack(name, encrypted: encrypted) {
                    return Pack(name: name, relative: relative, size: size, encrypted: encrypted)
                }
            }
            return nil
        }.sorted { $0.relative < $1.relative }
    }
}

/// What one upload of an incremental backup sent.
struct RepositoryUploadReport: Equatable, Sendable {
    /// The packs uploaded (by name), those the bucket already held left out.
    var packsUploaded: [String] = []
    /// Bytes sent: packs, index, and `config.json` / the key when they were missing.
    var bytesSent: Int64 = 0
}

extension S3Store {
    /// Deletes incremental backup `record`'s index from the bucket's repository, blocking (call
    /// it off the cooperative pool, as every blocking ``S3Store`` call).
    func deleteRepositoryIndex(of record: BackupRecord) throws(BackupError) {
        let remote = RemoteRepository(store: self)
        try BlockingBridge.wait { () async throws(BackupError) in
            try await remote.store.withClient { (client) async throws(BackupError) in
                try await remote.deleteIndex(of: record, with: client)
            }
        }
    }
}
