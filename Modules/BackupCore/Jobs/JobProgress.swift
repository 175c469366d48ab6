/// What a job is doing right now.
public struct JobProgress: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable {
        case snapshot
        case compress
        case verify
        /// A restore waits for the write lock on the live database (the application's transactions).
        case waitingForLock = "waiting_for_lock"
        /// A restore writes the backup into the live database.
        case replace
    }

    public var backupID: String
    public var phase: Phase
    public var doneBytes: Int64
    public var totalBytes: Int64
    /// Pages copied so far and in all, during the snapshot phase.
    public var pagesDone: Int?
    public var pageCount: Int?

    public var fraction: Double {
        totalBytes > 0 ? min(1, Double(doneBytes) / Double(totalBytes)) : 0
    }
}
