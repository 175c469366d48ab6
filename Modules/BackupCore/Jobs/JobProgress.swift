/// What a job is doing right now.
public struct JobProgress: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable {
        case snapshot
        case compress
        /// An import copies its file into the data directory (the CLI's `backup import`).
        case copy
        case verify
        /// A restore extracts the bundle's directories next to their targets.
        case extract
        /// A restore waits for the write lock on the live database (the application's transactions).
        case waitingForLock = "waiting_for_lock"
        /// A restore writes the backup into the live database.
        case replace
        /// An upload sends the bundle to the off-site bucket.
        case upload
        /// A bundle is fetched from the off-site bucket (a pull, a restore of a remote-only backup).
        case download
    }

    public var backupID: String
    public var phase: Phase
    /// Bytes done and in all over the whole job (a backup's two phases count the database twice).
    public var doneBytes: Int64
    public var totalBytes: Int64
    /// Pages copied so far and in all, during the snapshot phase.
    public var pagesDone: Int?
    public var pageCount: Int?

    /// Bytes done and in all within this phase, as the operator knows them: the database's
    /// size while a backup copies and compresses it (nil: the job has one phase, see `doneBytes`).
    public var phaseDoneBytes: Int64? = nil
    public var phaseTotalBytes: Int64? = nil

    /// How far the whole job has come, 0 to 1.
    public var fraction: Double {
        totalBytes > 0 ? min(1, Double(doneBytes) / Double(totalBytes)) : 0
    }

    /// How far this phase has come, 0 to 1.
    public var phaseFraction: Double {
        let total = phaseTotalBytes ?? totalBytes
        return total > 0 ? min(1, Double(phaseDoneBytes ?? doneBytes) / Double(total)) : 0
    }
}
