import Foundation

/// What ``BackupService/recoverOffsite()`` did.
public struct OffsiteRecovery: Sendable, Equatable {
    /// Multipart uploads of our bundles left unfinished by a dead process, now aborted.
    public var abortedUploads = 0
    /// Backups found in the bucket and recorded as remote-only.
    public var recorded: [String] = []
}

extension BackupService {
    /// A server's off-site start-up, when off-site copies are on: aborts the multipart uploads a
    /// dead process left under the prefix (all of ours when the job lock can be taken, since no
    /// upload of ours runs then; else those older than an hour) and records the bucket's backups
    /// this catalog does not know (``syncRemoteCatalog()``). Uploads left `uploading` went back
    /// to `pending` with the start-up's reconciliation, and are retried by the runner.
    public func recoverOffsite() async throws(BackupError) -> OffsiteRecovery {
        guard try offsiteTarget() != nil else { return OffsiteRecovery() }
        let remote = try remoteStore()
        var recovery = OffsiteRecovery()
        let lease = try? acquireJobLock()
        do {
            let cutoff: Date? = lease == nil ? now().addingTimeInterval(-3600) : nil
            recovery.abortedUploads = try await remote.withClient { (client) async throws(BackupError) in
                try await remote.abortMultipartUploads(with: client, startedBefore: cutoff)
            }
            lease?.release()
        } catch {
            lease?.release()
            throw error
        }
        recovery.recorded = try await syncRemoteCatalog().map(\.id)
        return recovery
    }
}
