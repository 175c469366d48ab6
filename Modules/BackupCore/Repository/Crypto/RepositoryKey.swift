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

    /// Removes the key a crash left without its repository's `config.json` (a first backup
    /// killed between placing the key and placing the config), so that a fresh one can be made:
    /// nothing was sealed to it, packs and indexes being written only once the config is in place.
    /// A key beside any pack or index file is no such leftover and stays where it is.
    static func removeLeftover(at root: URL) throws(BackupError) {
        let url = root.appendingPathComponent(RepositoryLayout.keyFile)
        guard FileOps.exists(url) else { return }
        for folder in [RepositoryLayout.packsFolder, RepositoryLayout.indexFolder] {
            let path = root.appendingPathComponent(folder).path
            let walker = FileManager.default.enumerator(atPath: path)
            while let relative = walker?.nextObject() as? String {
                if FileOps.isRegularFile(URL(fileURLWithPath: path).appendingPathComponent(relative)) { return }
            }
        }
        try FileOps.remove(url)
        try FileOps.fsyncDirectory(url.deletingLastPathComponent())
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
