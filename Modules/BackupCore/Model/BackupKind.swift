/// Why a backup was taken.
public enum BackupType: String, Codable, Sendable, CaseIterable {
    case manual
    case auto
    case preRestore = "pre-restore"
    case imported
}

/// Where a backup record is in its life.
public enum BackupStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case running
    case completed
    case failed
    case cancelled
    /// The record exists but its bundle file has vanished.
    case missing

    /// Whether a job is still working on the record.
    public var isActive: Bool { self == .pending || self == .running }
}
