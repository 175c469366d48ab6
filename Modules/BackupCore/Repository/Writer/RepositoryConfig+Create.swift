import Foundation

extension RepositoryConfig {
    /// The repository's `config.json` at `root`: read when it is there, else made (a random id)
    /// and placed durably; with `lock` (encryption on) the repository is encrypted: its own key
    /// is made first (``RepositoryKey``) and the config names its recipient. A repository is
    /// encrypted or not for its whole life: encryption switched since it was made is refused,
    /// so nothing is ever written in the clear while encryption is on.
    @discardableResult
    static func ensure(
        at root: URL, temporary: URL, now: Date, lock: AgeLock?
    ) throws(BackupError)
        -> RepositoryConfig
    {
        let url = root.appendingPathComponent(RepositoryLayout.config)
        if let config = try existing(at: root, encrypted: lock != nil) { return config }
        // A first backup killed between the key and the config left a key nothing uses.
        try RepositoryKey.removeLeftover(at: root)
        var random = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }.hexString
        try RepositoryFolders.make(root, below: root.deletingLastPathComponent())
        let recipient = try lock.map { (lock) throws(BackupError) in
            try RepositoryKey.create(at: root, temporary: temporary, lock: lock, now: now)
        }
        RestorePause.reach("incremental:key-placed")
        let config = RepositoryConfig(
            id: id, createdAt: now, encrypted: recipient != nil, recipient: recipient?.description)
        let bytes: Data
        do {
            bytes = try JSONEncoder.backupManager(pretty: true).encode(config)
        } catch {
            throw .io(path: url.path, reason: "cannot encode: \(error)")
        }
        try RepositoryWriter.place(
            [UInt8](bytes) + [0x0a], partial: temporary.appendingPathComponent("repository-config.json.partial"),
            as: url, root: root)
        return config
    }

    /// The config of the repository at `root`, nil when it has none yet; refused when the
    /// repository's encryption is not `encrypted` (encryption switched since it was made).
    static func existing(at root: URL, encrypted: Bool) throws(BackupError) -> RepositoryConfig? {
        let url = root.appendingPathComponent(RepositoryLayout.config)
        guard FileOps.exists(url) else { return nil }
        let config: RepositoryConfig
        do {
            config = try JSONDecoder.backupManager().decode(RepositoryConfig.self, from: Data(contentsOf: url))
        } catch {
            throw .io(path: url.path, reason: "not a repository's config.json: \(error)")
        }
        guard config.encrypted == encrypted, !config.encrypted || config.recipient != nil else {
            throw .invalidInput(fields: [
                "encryption.enabled": config.encrypted
                    ? "the incremental repository \(root.path) is encrypted: turn encryption back on, or use format bundle"
                    : "the incremental repository \(root.path) was made unencrypted: turn encryption off, or use format bundle"
            ])
        }
        return config
    }

    /// What packs and indexes are encrypted to: the repository's own recipient; nil when the
    /// repository is not encrypted.
    func lock() throws(BackupError) -> AgeLock? {
        guard encrypted else { return nil }
        return .recipients([try AgeRecipient(parsing: recipient ?? "", field: "config.json recipient")])
    }
}
