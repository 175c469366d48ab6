import Foundation

/// `keys/repository-key.age`: the encrypted repository's own X25519 identity, as an age identity
/// file encrypted to the operator's lock (the data directory's key and recipients, or the
/// passphrase). Made once, with the repository; `age -d -i DATA_DIR/backup-key` opens it.
enum RepositoryKey {
    /// Makes a fresh identity, writes it encrypted to `lock` at `root`'s key path (durably) and
    /// returns its recipient.
    static func create(at root: URL, temporary: URL, lock: AgeLock, now: Date) throws(BackupError) -> AgeRecipient {
        let identity = AgeIdentity.generate()
        let sealed = try RepositoryCipher.seal(Array(identity.fileText(created: now).utf8), lock: lock)
        try RepositoryWriter.place(
            sealed, partial: temporary.appendingPathComponent("repository-key.age.partial"),
            as: root.appendingPathComponent(RepositoryLayout.keyFile), root: root)
        return identity.recipient
    }

    /// The repository's identity, opened with the operator's `keys`.
    static func unlock(at root: URL, keys: [AgeKey]) throws(BackupError) -> AgeIdentity {
        let url = root.appendingPathComponent(RepositoryLayout.keyFile)
        let sealed: Data
        do {
            sealed = try Data(contentsOf: url)
        } catch {
            throw .io(path: url.path, reason: "cannot read the repository's key: \(error.localizedDescription)")
        }
        let text = try RepositoryCipher.open([UInt8](sealed), keys: keys, name: url.lastPathComponent)
        guard let identity = try AgeIdentity.parseFile(String(decoding: text, as: UTF8.self)).first else {
            throw .verificationFailed(reason: "\(url.lastPathComponent): holds no identity")
        }
        return identity
    }
}
