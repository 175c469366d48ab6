import Foundation

/// What a prune did (or, in a dry run, would do).
public struct PruneReport: Sendable, Equatable {
    public var deleted: [BackupInfo]
    public var keptIDs: [String]
    public var dryRun: Bool
}

extension BackupService {
    /// Applies the retention settings now, as a job (busy → ``BackupError/backupInProgress``).
    /// A dry run only reads: it takes no lock and changes nothing, not even by reconciling.
    @discardableResult
    public func prune(dryRun: Bool = false) throws(BackupError) -> PruneReport {
        if dryRun { return try pruneHoldingLock(dryRun: true) }
        let lease = try beginJob()
        defer { lease.release() }
        return try pruneHoldingLock(dryRun: false)
    }

    /// Applies retention; the caller holds the job lock (a dry run needs none). `justMade` (the backup of the job that
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
