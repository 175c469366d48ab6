import Foundation

/// What a prune did (or, in a dry run, would do).
public struct PruneReport: Sendable, Equatable {
    public var deleted: [BackupInfo]
    public var keptIDs: [String]
    public var dryRun: Bool
}

extension BackupService {
    /// Applies the retention settings now, under the job lock (busy → ``BackupError/backupInProgress``).
    @discardableResult
    public func prune(dryRun: Bool = false) throws(BackupError) -> PruneReport {
        let lease = try acquireJobLock()
        defer { lease.release() }
        return try pruneHoldingLock(dryRun: dryRun)
    }

    /// Applies retention; the caller holds the job lock. `justMade` (the backup of the job that
    /// prunes now) is never deleted.
    func pruneHoldingLock(dryRun: Bool, justMade: String? = nil) throws(BackupError) -> PruneReport {
        let records = try catalog.allRecords()
        let plan = Retention.plan(
            records, policy: try catalog.settings().retention, now: now(), calendar: calendar, justMade: justMade)
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        var deleted: [BackupInfo] = []
        for id in plan.deleted {
            guard let record = byID[id] else { continue }
            if !dryRun { try deleteFinished(record) }
            deleted.append(record.info)
        }
        return PruneReport(deleted: deleted, keptIDs: records.map(\.id).filter { plan.kept[$0] != nil }, dryRun: dryRun)
    }
}
