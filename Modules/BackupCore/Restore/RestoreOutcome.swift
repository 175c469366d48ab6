import Foundation

/// The result of the last restore, kept in `DATA_DIR/last-restore.json` so that it survives the
/// restart that follows and `/api/status` can report it.
public struct RestoreOutcome: Codable, Equatable, Sendable {
    public enum Result: String, Codable, Sendable {
        case succeeded, failed
    }

    @ExplicitNull public var backupID: String?
    public var finishedAt: Date
    public var outcome: Result
    @ExplicitNull public var error: String?
    /// The `pre-restore` backup taken first, when one was.
    @ExplicitNull public var safetyBackupID: String?
    /// How long the application's writers were held off: the write lock on the live database
    /// from before the safety backup to the replacement's commit. Nil when the lock was never held.
    @ExplicitNull public var writersWaitedMs: Int64?

    enum CodingKeys: String, CodingKey {
        case backupID = "backup_id"
        case finishedAt = "finished_at"
        case outcome, error
        case safetyBackupID = "safety_backup_id"
        case writersWaitedMs = "writers_waited_ms"
    }

    public init(
        backupID: String?, finishedAt: Date, outcome: Result, error: String?, safetyBackupID: String?,
        writersWaitedMs: Int64? = nil
    ) {
        self.backupID = backupID
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.error = error
        self.safetyBackupID = safetyBackupID
        self.writersWaitedMs = writersWaitedMs
    }
}

extension DataDirectory {
    var lastRestoreFile: URL { root.appendingPathComponent("last-restore.json") }

    /// The last restore's outcome, if any restore has run.
    public func lastRestore() -> RestoreOutcome? {
        guard let data = try? Data(contentsOf: lastRestoreFile) else { return nil }
        return try? JSONDecoder.backupManager().decode(RestoreOutcome.self, from: data)
    }

    /// Writes the outcome durably (temporary file, fsync, rename, directory fsync).
    func recordRestore(_ outcome: RestoreOutcome) throws(BackupError) {
        let data: Data
        do { data = try JSONEncoder.backupManager(pretty: true).encode(outcome) } catch {
            throw .io(path: lastRestoreFile.path, reason: "cannot encode the outcome")
        }
        let temporary = root.appendingPathComponent(".last-restore.json.new")
        FileOps.removeIfPresent(temporary)
        let file = try OutputFile(creating: temporary)
        try file.write(Array(data))
        try file.sync()
        file.close()
        try FileOps.rename(temporary, to: lastRestoreFile)
        try FileOps.fsyncDirectory(root)
    }
}
