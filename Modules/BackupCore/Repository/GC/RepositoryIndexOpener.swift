import Foundation

/// Reads a repository's indexes for a collection: a plain one as it is, an encrypted one
/// (`.json.zst.age`) with the repository's own identity, unlocked once, when the first encrypted
/// index is met, with the operator's keys. No key, or a wrong one, is an error: a collection
/// that cannot read every index does not run.
///
/// Blocking: used on the job's thread.
final class RepositoryIndexOpener {
    private let root: URL
    private let keys: () throws(BackupError) -> [AgeKey]
    private var unlocked: AgeIdentity?

    /// - Parameter keys: the operator's keys (``BackupService/bundleKeys()``), asked only when an
    ///   encrypted index is met.
    init(repository root: URL, keys: @escaping () throws(BackupError) -> [AgeKey]) {
        self.root = root
        self.keys = keys
    }

    /// The repository's identity (`keys/repository-key.age` opened with the operator's keys).
    func identity() throws(BackupError) -> AgeIdentity {
        if let unlocked { return unlocked }
        let identity = try RepositoryKey.unlock(at: root, keys: try keys())
        unlocked = identity
        return identity
    }

    func read(_ url: URL) throws(BackupError) -> RepositoryIndex {
        let encrypted = url.lastPathComponent.hasSuffix(".age")
        return try RepositoryIndex(contentsOf: url, identity: encrypted ? try identity() : nil)
    }
}
