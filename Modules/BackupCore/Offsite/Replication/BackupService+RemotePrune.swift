import Foundation
import Logging

extension BackupService {
    /// Applies the off-site retention settings (`offsite.keep_*`) to the bucket now, as a job
    /// (busy → ``BackupError/backupInProgress``); a dry run takes no lock and changes nothing.
    @discardableResult
    public func pruneRemote(dryRun: Bool = false) async throws(BackupError) -> PruneReport {
        if dryRun { return try await pruneRemoteHoldingLock(dryRun: true) }
        let lease = try beginJob()
        defer { lease.release() }
        let report = try await pruneRemoteHoldingLock(dryRun: false)
        if let failure = report.failure { throw failure }
        return report
    }

    /// Remote retention: the same rules as local retention (``Retention/plan``: pins hold, the
    /// newest is kept; every type of backup is covered) over the backups whose copy
    /// is uploaded, with `offsite.keep_*`. A deleted copy loses its bundle and sidecar in the
    /// bucket (an incremental backup: its index, then garbage collection of the bucket's
    /// repository, ``collectRemoteRepository(in:dryRun:)``, deletes the packs no index needs); a
    /// backup with no local bundle left loses its record too, else its copy becomes `none`. Nothing happens while off-site copies are off. The caller holds the job lock (a
    /// dry run needs none).
    func pruneRemoteHoldingLock(dryRun: Bool) async throws(BackupError) -> PruneReport {
        guard let target = try offsiteTarget() else { return PruneReport(deleted: [], keptIDs: [], dryRun: dryRun) }
        let remote = S3Store(target: target, temporary: dataDirectory.temporary)
        let policy = target.retention
        let records = try catalog.allRecords().filter { $0.status == .completed && $0.offsiteStatus == .uploaded }
        let plan = Retention.plan(
            records, policy: policy, now: now(), calendar: calendar, inUse: try catalog.usedBackupIDs())
        let doomed = records.filter { plan.deleted.contains($0.id) }
        var deleted: [BackupInfo] = []
        var failure: BackupError?
        if dryRun || doomed.isEmpty {
            deleted = doomed.map(\.info)
        } else {
            let catalog = self.catalog
            let jobLock = dataDirectory.jobLock.path
            (deleted, failure) = try await remote.withClient { (client) async -> ([BackupInfo], BackupError?) in
                var deleted: [BackupInfo] = []
                var failure: BackupError?
                for record in doomed {
                    do throws(BackupError) {
                        if record.store == RepositoryLayout.storeName || record.isInRepository {
                            try await RemoteRepository(store: remote).deleteIndex(of: record, with: client)
                        } else {
                            try await client.delete(key: remote.objectKey(record.filename))
                            try await client.delete(key: remote.objectKey(BundleName.sidecar(for: record.filename)))
                        }
                        if record.store == S3Store.storeName {
                            try catalog.deleteRecord(id: record.id) { AdvisoryLock.isHeld(at: jobLock) }
                        } else {
                            try catalog.setOffsite(id: record.id, .none)
                        }
                        deleted.append(record.info)
                    } catch {
                        failure = failure ?? error
                    }
                }
                return (deleted, failure)
            }
            metrics.retentionDeleted(deleted.count, at: .offsite)
        }
        var collected: RemoteRepositoryGCReport?
        do throws(BackupError) {
            // A dry run reads the doomed backups' indexes as deleted: the packs it reports are
            // those the real run frees.
            let doomedIndexes = Set(doomed.filter { $0.format == .incremental }.map(\.id))
            let report = try await collectRemoteRepository(
                in: remote, dryRun: dryRun, excluding: dryRun ? doomedIndexes : [])
            collected = report
            if !dryRun, !report.packsDeleted.isEmpty {
                Self.offsiteLogger.info(
                    "off-site repository collected",
                    metadata: [
                        "packs_deleted": "\(report.packsDeleted.count)",
                        "bytes_freed": "\(report.bytesFreed)",
                    ])
            }
        } catch {
            failure = failure ?? error
        }
        return PruneReport(
            deleted: deleted, keptIDs: records.map(\.id).filter { plan.kept[$0] != nil }, dryRun: dryRun,
            failure: failure, remoteRepository: collected)
    }
}
