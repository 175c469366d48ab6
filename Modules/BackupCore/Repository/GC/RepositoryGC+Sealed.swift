import Foundation

/// What a collection needs to open and write the packs of an encrypted repository: the
/// repository's own identity (to read a sealed pack's trailer and chunks) and what new packs are
/// sealed to (its recipient).
struct SealedPacks {
    /// The repository's identity, unlocked when first needed.
    var identity: () throws(BackupError) -> AgeIdentity
    /// The repository's recipient, as a lock.
    var lock: AgeLock
}

extension RepositoryGC {
    /// Runs `body` on a plain copy of the pack at `url`: the file itself when it is not sealed,
    /// else its plaintext decrypted into `.tmp/` (removed afterwards). Nil when the pack is sealed
    /// and this collection has no key (``sealed`` nil): it is then not opened at all.
    func withPlainPack<T>(_ url: URL, _ body: (URL) throws(BackupError) -> T) throws(BackupError) -> T? {
        guard url.lastPathComponent.hasSuffix(".age") else { return try body(url) }
        guard let sealed else { return nil }
        let plain = temporary.appendingPathComponent("gc-open-\(UUID().uuidString).pack")
        defer { FileOps.removeIfPresent(plain) }
        try RepositoryCipher.openFile(url, into: plain, keys: [.identity(try sealed.identity())])
        return try body(plain)
    }

    /// A repack's sealed new pack: the plain `partial` encrypted to the repository's recipient
    /// beside it (the plain one removed); its name and size are the sealed file's. Without
    /// ``sealed``, `partial` as it is.
    func sealIfNeeded(_ partial: URL, name: String) throws(BackupError) -> (url: URL, name: String, size: Int64) {
        guard let sealed else { return (partial, name, FileOps.size(of: partial) ?? 0) }
        let placed = partial.appendingPathExtension("age")
        let (sealedName, size) = try RepositoryCipher.sealFile(partial, into: placed, lock: sealed.lock)
        FileOps.removeIfPresent(partial)
        return (placed, sealedName, size)
    }
}
