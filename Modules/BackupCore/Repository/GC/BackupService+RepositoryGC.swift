import Foundation

extension BackupService {
    /// Collects the local repository's garbage (see ``RepositoryGC``); nil when there is no
    /// repository. The caller holds the job lock, except for a dry run, which only reads and
    /// counts the indexes of the `excluding` backups (a dry prune's would-be deletions) as gone.
    func collectRepositoryGarbage(
        dryRun: Bool, excluding: Set<String> = []
    ) throws(BackupError)
        -> RepositoryGCReport?
    {
        let root = dataDirectory.repository
        guard FileOps.exists(root) else { return nil }
        let settings = try catalog.settings()
        var gc = RepositoryGC(
            catalog: catalog, root: root, temporary: dataDirectory.temporary,
            level: settings.codec == .zstd ? settings.compressionLevel : CodecName.zstd.defaultLevel, now: now())
        let opener = RepositoryIndexOpener(repository: root) { () throws(BackupError) in try bundleKeys().load() }
        gc.readIndex = { (url) throws(BackupError) in try opener.read(url) }
        if let config = try? JSONDecoder.backupManager().decode(
            RepositoryConfig.self, from: Data(contentsOf: root.appendingPathComponent(RepositoryLayout.config))),
            config.encrypted, let recipient = config.recipient
        {
            gc.sealed = SealedPacks(
                identity: { () throws(BackupError) in try opener.identity() },
                lock: .recipients([try AgeRecipient(parsing: recipient)]))
        }
        return try gc.run(dryRun: dryRun, excluding: excluding)
    }
}
