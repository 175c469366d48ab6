/// What a person may do with a backup. The one rule of which states allow what lives here
/// (``BackupStatus/allows(_:)``); the core enforces it (``BackupRecord/ensure(_:)``) and every
/// face reads it from ``BackupInfo/actions`` instead of deciding again.
public enum BackupAction: String, Codable, Sendable, CaseIterable {
    /// Stream the bundle, or sign a link to it.
    case download
    /// Check the bundle end to end.
    case verify
    /// Replace the live database with the backup.
    case restore
    /// Pin or unpin it (retention never deletes a pinned backup).
    case pin
    /// Delete its record and bundle.
    case delete
}

extension BackupStatus {
    /// Whether a backup in this state allows `action`: only completed backups are downloaded
    /// and restored; a `missing` one may also be verified (its bundle may be back); any backup
    /// no job is making may be pinned or deleted.
    public func allows(_ action: BackupAction) -> Bool {
        switch action {
        case .download, .restore: self == .completed
        case .verify: self == .completed || self == .missing
        case .pin, .delete: !isActive
        }
    }

    /// The actions this state allows, in ``BackupAction`` order.
    public var actions: [BackupAction] { BackupAction.allCases.filter(allows) }
}

extension BackupRecord {
    /// Refuses `action` unless the record's state allows it: a backup still being made is
    /// ``BackupError/backupInUse(id:job:)``, any other state
    /// ``BackupError/notCompleted(id:status:action:)``.
    public func ensure(_ action: BackupAction) throws(BackupError) {
        guard !status.allows(action) else { return }
        if status.isActive, action == .delete || action == .pin { throw .backupInUse(id: id, job: .backup) }
        throw .notCompleted(id: id, status: status, action: action)
    }
}

extension BackupAction {
    /// The action in a sentence: "only completed backups can be *downloaded*".
    var pastParticiple: String {
        switch self {
        case .download: "downloaded"
        case .verify: "verified"
        case .restore: "restored"
        case .pin: "pinned"
        case .delete: "deleted"
        }
    }
}

extension JobKind {
    /// The job in a sentence: "backup … is being *verified*".
    var pastParticiple: String {
        switch self {
        case .backup: "made"
        case .verify: "verified"
        case .import: "imported"
        case .restore: "restored"
        case .upload: "uploaded"
        }
    }
}
