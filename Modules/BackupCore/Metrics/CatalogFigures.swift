import Foundation
import GRDB

/// What the catalog says for the gauges a scrape refreshes (``BackupMetrics`` counts events in
/// this process; these come from the catalog, so a restarted server and backups the CLI made
/// show too). Imports are not backups made here and count in none of the times.
public struct CatalogFigures: Equatable, Sendable {
    /// When the newest backup that completed did so (a backup whose bundle went missing since
    /// still completed then); nil when none has.
    public var lastSuccessAt: Date?
    /// When the newest failed backup ended; nil when none has failed.
    public var lastFailureAt: Date?
    /// Records by status, every status present (zero when none).
    public var recordsByStatus: [BackupStatus: Int]
    /// When the oldest completed backup still waiting for its off-site copy (pending, uploading
    /// or failed) completed; nil when none waits.
    public var oldestAwaitingUploadAt: Date?
    /// When the next automatic backup is due; nil when automatic backups are off.
    public var nextAutomaticBackupAt: Date?
    /// The automatic backups' interval; nil when they are off.
    public var automaticInterval: TimeInterval?

    /// How long the oldest backup waiting for its off-site copy has waited at `now` (0 when none).
    public func offsiteLag(at now: Date) -> TimeInterval {
        guard let oldestAwaitingUploadAt else { return 0 }
        return max(0, now.timeIntervalSince(oldestAwaitingUploadAt))
    }
}

extension Catalog.AsyncReads {
    /// ``CatalogFigures`` in one read, on GRDB's reader queues (never a cooperative thread).
    public func figures() async throws(BackupError) -> CatalogFigures {
        do {
            return try await catalog.writer.read { db in try Catalog.fetchFigures(db) }
        } catch {
            throw Catalog.map(error)
        }
    }
}

extension Catalog {
    /// ``CatalogFigures`` inside a read.
    static func fetchFigures(_ db: Database) throws -> CatalogFigures {
        let made = "type != '\(BackupType.imported.rawValue)'"
        let lastSuccess = try Date.fetchOne(
            db, sql: "SELECT MAX(completed_at) FROM backup WHERE status IN ('completed', 'missing') AND \(made)")
        let lastFailure = try Date.fetchOne(
            db, sql: "SELECT MAX(completed_at) FROM backup WHERE status = 'failed' AND \(made)")
        var byStatus = Dictionary(uniqueKeysWithValues: BackupStatus.allCases.map { ($0, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM backup GROUP BY status") {
            guard let status = BackupStatus(rawValue: row["status"]) else { continue }
            byStatus[status] = row["n"]
        }
        let awaiting = OffsiteStatus.allCases.filter(\.isAwaitingUpload).map { "'\($0.rawValue)'" }
        let oldestAwaiting = try Date.fetchOne(
            db,
            sql: """
                SELECT MIN(completed_at) FROM backup
                WHERE status = 'completed' AND offsite_status IN (\(awaiting.joined(separator: ", ")))
                """)
        var next: Date?
        var interval: TimeInterval?
        if let settings = try SettingsRecord.fetchOne(db) {
            let lastStart = try Date.fetchOne(
                db, sql: "SELECT MAX(created_at) FROM backup WHERE type = ?", arguments: [BackupType.auto.rawValue])
            next = BackupService.nextAutomaticBackup(
                settings: settings.settings, enabledAt: settings.enabled ? settings.enabledAt : nil,
                lastAutomaticStart: lastStart)
            interval = settings.enabled ? TimeInterval(settings.intervalHours) * 3600 : nil
        }
        return CatalogFigures(
            lastSuccessAt: lastSuccess, lastFailureAt: lastFailure, recordsByStatus: byStatus,
            oldestAwaitingUploadAt: oldestAwaiting, nextAutomaticBackupAt: next,
            automaticInterval: interval)
    }
}
