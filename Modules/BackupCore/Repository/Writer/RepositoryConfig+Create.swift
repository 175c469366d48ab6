import Foundation

extension RepositoryConfig {
    /// The repository's `config.json` at `root`: read when it is there, else made (a random id,
    /// not encrypted) and placed durably. A repository whose config says it is encrypted is
    /// refused: this version writes packs and indexes in the clear only.
    @discardableResult
    static func ensure(at root: URL, temporary: URL, now: Date) throws(BackupError) -> RepositoryConfig {
        let url = root.appendingPathComponent(RepositoryLayout.config)
        if FileOps.exists(url) {
            let config: RepositoryConfig
            do {
                config = try JSONDecoder.backupManager().decode(RepositoryConfig.self, from: Data(contentsOf: url))
            } catch {
                throw .io(path: url.path, reason: "not a repository's config.json: \(error)")
            }
            guard !config.encrypted else {
                throw .io(
                    path: url.path,
                    reason: "the repository is encrypted, and this version writes incremental backups in the clear only"
                )
            }
            return config
        }
        var random = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }.hexString
        let config = RepositoryConfig(id: id, createdAt: now, encrypted: false, recipient: nil)
        let bytes: Data
        do {
            bytes = try JSONEncoder.backupManager(pretty: true).encode(config)
        } catch {
            throw .io(path: url.path, reason: "cannot encode: \(error)")
        }
        try RepositoryFolders.make(root, below: root.deletingLastPathComponent())
        try RepositoryWriter.place(
            [UInt8](bytes) + [0x0a], partial: temporary.appendingPathComponent("repository-config.json.partial"),
            as: url, root: root)
        return config
    }
}
