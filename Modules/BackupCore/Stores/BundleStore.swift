import Foundation

/// Where finished bundles live: the seam between the jobs and the storage (the local
/// `backups/` folder today, object storage next).
///
/// A bundle is addressed by its key, its file name (``BundleKey``); nothing outside a store
/// joins paths or names its files. Every requirement is blocking: jobs call them on the thread
/// that runs the job, and an async face (a download) calls them from a thread pool, never from
/// the cooperative pool. Failures are ``BackupError``s, so the faces map them as any other.
public protocol BundleStore: Sendable {
    /// The store's stable name, as the catalog records it (`local`).
    var name: String { get }

    /// Makes a finished bundle durable under `key`: the one way a bundle enters a store.
    ///
    /// `partial` is the complete bundle, written in `backups/.tmp/`; `sha256` is its SHA-256
    /// (hex), which goes into the `.sha256` sidecar. When `put` returns, the bundle and its
    /// sidecar survive a crash or power loss; if the process dies on the way, the store holds
    /// either no bundle under `key` or the complete bundle with its sidecar. The partial file
    /// is consumed; on failure it stays for the caller to remove. An existing bundle is never
    /// replaced.
    func put(partial: URL, sha256: String, as key: String) throws(BackupError)

    /// Exactly `length` bytes of the bundle from `offset` (a download's `Range`); a range
    /// outside the bundle is refused.
    func read(_ key: String, offset: Int64, length: Int) throws(BackupError) -> [UInt8]

    /// Opens the bundle for one full read (verification, restore): `body` gets a local file
    /// holding its bytes, valid until it returns. The local store hands over the bundle itself;
    /// a remote store fetches it into `backups/.tmp/` first.
    func open<T>(_ key: String, _ body: (URL) throws(BackupError) -> T) throws(BackupError) -> T

    /// The bundle's size, or nil when the store has no bundle under `key`.
    func size(of key: String) throws(BackupError) -> Int64?

    /// The SHA-256 its sidecar records, or nil when it has none.
    func checksum(of key: String) throws(BackupError) -> String?

    /// Removes the bundle and its sidecar; an absent one is not an error.
    func delete(_ key: String) throws(BackupError)

    /// Where a person finds the bundle (a path for the local store), for messages.
    func location(of key: String) -> String

    /// Every bundle the store holds, with its size; partial files and working folders are not
    /// bundles.
    func list() throws(BackupError) -> [StoredBundle]
}

/// A bundle as a store lists it.
public struct StoredBundle: Sendable, Equatable {
    /// Its key (the bundle's file name).
    public var key: String
    public var sizeBytes: Int64

    public init(key: String, sizeBytes: Int64) {
        self.key = key
        self.sizeBytes = sizeBytes
    }
}

/// Bundle keys: a plain bundle file name (``BundleName``), never a path.
public enum BundleKey {
    /// Returns `key` when a store may use it: a bundle file name with no `/` and no `..`, so
    /// nothing is read or written outside the store. Anything else is refused.
    @discardableResult
    public static func validated(_ key: String) throws(BackupError) -> String {
        guard !key.contains("/"), !key.contains(".."), !key.contains("\0") else {
            throw .io(path: String(key.prefix(200)), reason: "not a bundle key: a key is a file name, never a path")
        }
        guard BundleName.isBundleFilename(key) else {
            throw .io(path: String(key.prefix(200)), reason: "not a bundle key: not a bundle file name")
        }
        return key
    }
}
