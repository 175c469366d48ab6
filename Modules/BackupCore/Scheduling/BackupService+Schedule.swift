import Foundation
import Logging

extension BackupService {
    /// When the next automatic backup is due: (the last automatic backup's start, or the moment
    /// automatic backups were enabled, whichever is later) + the interval. Nil when they are off.
    /// A time in the past means "now": a run missed while nothing was running happens once.
    public func nextAutomaticBackup() throws(BackupError) -> Date? {
        let settings = try catalog.settings()
        guard settings.enabled, let enabledAt = try catalog.automaticBackupsEnabledAt() else { return nil }
        let lastStart = try catalog.page(BackupQuery(limit: 1, type: .auto)).items.first?.createdAt
        return Self.nextAutomaticBackup(settings: settings, enabledAt: enabledAt, lastAutomaticStart: lastStart)
    }

    /// The rule of ``nextAutomaticBackup()`` over what it read: nil when `settings` has
    /// automatic backups off or `enabledAt` is unknown.
    static func nextAutomaticBackup(
        settings: BackupSettings, enabledAt: Date?, lastAutomaticStart: Date?
    ) -> Date? {
        guard settings.enabled, let enabledAt else { return nil }
        let base = max(enabledAt, lastAutomaticStart ?? enabledAt)
        return base.addingTimeInterval(TimeInterval(settings.intervalHours) * 3600)
    }

    /// Catalog totals with the next automatic backup.
    public func stats() throws(BackupError) -> BackupStats {
        var stats = try catalog.stats()
        stats.lastRetentionFailure = try catalog.retentionFailure()
        stats.nextAutoAt = try nextAutomaticBackup()
        return stats
    }

    /// Validates and stores settings (and `secretChange`, the off-site secret's, and `tokenChange`,
    /// the Telegram bot token's, each in its own file),
    /// then applies retention if no job holds the lock (a
    /// running job applies it when it ends). The answer names what retention deleted; call
    /// ``previewSettings(_:)`` first to ask before anything is deleted. A retention failure
    /// does not undo the saved settings: it is logged and shown in the stats.
    @discardableResult
    public func saveSettings(
        _ settings: BackupSettings, secretChange: OffsiteSecret.Change? = nil, tokenChange: StoredSecret.Change? = nil
    ) throws(BackupError) -> SettingsChange {
        let settings = try judged(settings, secretChange: secretChange, tokenChange: tokenChange)
        if let secretChange { try OffsiteSecret(dataDirectory: dataDirectory).apply(secretChange) }
        if let tokenChange { try telegramToken.apply(tokenChange) }
        let saved = try catalog.saveSettings(settings, now: now())
        var deleted: [BackupInfo] = []
        if let lease = try? acquireJobLock() {
            defer { lease.release() }
            do throws(BackupError) {
                deleted = try pruneHoldingLock(dryRun: false).deleted
            } catch {
                Self.retentionLogger.error(
                    "retention after a settings change failed", metadata: ["error": "\(error.message)"])
            }
        }
        return SettingsChange(settings: saved, deleted: deleted)
    }
}
