import Foundation
import Logging

/// What a prune did (or, in a dry run, would do).
public struct PruneReport: Sendable, Equatable {
    public var deleted: [BackupInfo]
    public var keptIDs: [String]
    public var dryRun: Bool
    /// The first deletion that failed (the others were still tried), or the repository's
    /// garbage collection when it failed; nil when all succeeded.
    public var failure: BackupError?
    /// What the repository's garbage collection freed (would free, in a dry run); nil when there
    /// is no repository or it did not run (a retention run after a job that deleted nothing).
    public var repository: RepositoryGCReport? = nil
    /// What the garbage collection of the bucket's repository freed (would free, in a dry run):
    /// remote prune only (zeros when the bucket holds no repository); nil when it failed.
    public var remoteRepository: RemoteRepositoryGCReport? = nil
}

extension BackupService {
    /// Applies the retention settings now, as a job (busy → ``BackupError/backupInProgress``).
    /// A dry run only reads: it takes no lock and changes nothing, not even by reconciling.
    /// A backup that cannot be deleted fails the prune with its error, after the others were
    /// tried, and is kept in the stats' ``BackupStats/lastRetentionFailure``.
    @discardableResult
    public func prune(dryRun: Bool = false) throws(BackupError) -> PruneReport {
        if dryRun {
            let report = try pruneHoldingLock(dryRun: true, collectingGarbage: true)
            if let failure = report.failure { throw failure }
            return report
        }
        let lease = try beginJob()
        defer { lease.release() }
        let report = try pruneHoldingLock(dryRun: false, collectingGarbage: true)
        if let failure = report.failure { throw failure }
        return report
    }

    /// Applies retention to the local store; the caller holds the job lock (a dry run needs
    /// none). A backup whose off-site copy is uploaded loses only its local bundle and stays
    /// listed as remote-only (``dropLocalCopy(of:)``). `justMade` (the
    /// backup of the job that prunes now) and the backups a job uses (a restore's source while
    /// its safety backup prunes) are never deleted. A real run records its outcome for the stats
    /// (see ``RetentionFailure``) and logs a failure; the failure is in the report, not thrown.
    ///
    /// Then the repository's garbage collection (``RepositoryGC``) runs, when there is a
    /// repository and `collectingGarbage` (an explicit prune) or a backup was deleted: the
    /// packs only deleted backups used go (a dry run counts what would go).
    func pruneHoldingLock(
        dryRun: Bool, justMade: String? = nil, collectingGarbage: Bool = false
    )
        throws(BackupError) -> PruneReport
    {
        let records = try catalog.allRecords().filter {
            $0.store == localStore.name || $0.store == RepositoryLayout.storeName
        }
        let plan = try localRetentionPlan(
            records, policy: try catalog.settings().retention, justMade: justMade, inUse: try catalog.usedBackupIDs())
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        var deleted: [BackupInfo] = []
        var failure: BackupError?
        for id in plan.deleted {
            guard let record = byID[id] else { continue }
            if !dryRun {
                do throws(BackupError) {
                    if record.status == .completed, record.offsiteStatus == .uploaded {
                        try dropLocalCopy(of: record)
                    } else {
                        try deleteFinished(record)
                    }
                } catch {
                    failure = failure ?? error
                    continue
                }
            }
            deleted.append(record.info)
        }
        var repository: RepositoryGCReport?
        if collectingGarbage || !deleted.isEmpty {
            do throws(BackupError) {
                repository = try collectRepositoryGarbage(
                    dryRun: dryRun, excluding: dryRun ? Set(deleted.map(\.id)) : [])
            } catch {
                failure = failure ?? error
            }
        }
        if !dryRun {
            metrics.retentionDeleted(deleted.count, at: .local)
            if let failure {
                Self.retentionLogger.error(
                    "retention could not delete every backup it should",
                    metadata: ["error": "\(failure.message)", "deleted": "\(deleted.map(\.id))"])
            }
            try catalog.setRetentionFailure(failure.map { RetentionFailure(failedAt: now(), error: $0.message) })
        }
        return PruneReport(
            deleted: deleted, keptIDs: records.map(\.id).filter { plan.kept[$0] != nil }, dryRun: dryRun,
            failure: failure, repository: repository)
    }

    /// Local retention's plan over `records` (the local store's): while off-site copies are
    /// on, a backup whose copy is not made yet keeps its only bundle whatever the rules say.
    /// `offsiteEnabled` gives the off-site switch of settings about to be saved (a preview); by
    /// default the catalog's.
    func localRetentionPlan(
        _ records: [BackupRecord], policy: RetentionPolicy, justMade: String? = nil, inUse: Set<String> = [],
        offsiteEnabled: Bool? = nil
    ) throws(BackupError) -> RetentionPlan {
        let enabled: Bool
        if let offsiteEnabled { enabled = offsiteEnabled } else { enabled = try offsiteCopiesEnabled() }
        let awaiting = enabled ? Set(records.filter { $0.offsiteStatus.isAwaitingUpload }.map(\.id)) : []
        return Retention.plan(
            records, policy: policy, now: now(), calendar: calendar, justMade: justMade, inUse: inUse,
            awaitingUpload: awaiting)
    }

    static let retentionLogger = Logger(label: "retention")
}
