import Foundation
import Logging

/// An upload whose job lock is held and whose backup is marked in use, ready to run.
public struct PreparedUpload: Sendable {
    public let record: BackupRecord
    let lease: JobLease
}

extension BackupService {
    /// The off-site copy a backup completing now starts with: `pending` while off-site copies
    /// are on (its upload follows), else `none`.
    func initialOffsiteStatus() -> OffsiteStatus {
        ((try? offsiteCopiesEnabled()) ?? false) ? .pending : .none
    }

    /// Uploads backup `id`'s bundle and sidecar to the bucket in one call (the CLI's `remote
    /// push` and `create`): ``prepareUpload(id:)`` then ``runUpload(_:alerts:progress:)``.
    @discardableResult
    public func push(
        id: String, alerts: AlertNotifier? = nil, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        do {
            return try await runUpload(try prepareUpload(id: id), progress: progress)
        } catch {
            // A command waits for the alert's delivery before it exits.
            if let alerts, Self.alertsOfUpload(error) {
                let info = try? catalog.record(id: id).info
                _ = await alerts.uploadFailed(info, message: error.message)?.value
            }
            throw error
        }
    }

    /// Whether a failed upload is worth an alert: not a cancel, a busy data directory or a
    /// backup that cannot be uploaded.
    static func alertsOfUpload(_ error: BackupError) -> Bool {
        switch error {
        case .cancelled, .backupInProgress, .notCompleted, .notFound, .invalidInput, .backupInUse: false
        default: true
        }
    }

    /// Makes the off-site copy of a backup just completed when it is `pending` (a command's
    /// path: `create`, `import`, a restore's safety backup), and returns the backup as it then
    /// is. Never fails: a failed or cancelled upload leaves the copy `failed` or `pending`, retried
    /// later, and the backup as it was.
    public func uploadIfPending(
        _ info: BackupInfo, alerts: AlertNotifier? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async -> BackupInfo {
        guard info.offsite.status == .pending else { return info }
        do throws(BackupError) {
            return try await push(id: info.id, alerts: alerts, progress: progress)
        } catch {
            return (try? catalog.record(id: info.id).info) ?? info
        }
    }

    /// Takes the job lock (``BackupError/backupInProgress`` when another job runs), marks the
    /// backup in use (a delete waits) and checks that it can be uploaded: a completed local
    /// backup, with off-site copies on.
    public func prepareUpload(id: String) throws(BackupError) -> PreparedUpload {
        let lease = try beginJob()
        do throws(BackupError) {
            let record = try catalog.record(id: id)
            guard record.status == .completed, Self.isUploadable(record.store), record.sha256 != nil else {
                throw BackupError.notCompleted(id: id, status: record.status, action: .download)
            }
            guard try offsiteTarget() != nil else {
                throw BackupError.invalidInput(fields: ["offsite.enabled": "off-site copies are off"])
            }
            try lease.use(id, for: .upload, at: now())
            return PreparedUpload(record: record, lease: lease)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Runs a prepared upload (``uploadHoldingLock(id:progress:)``) and releases the job lock.
    /// A failure is recorded on the backup (`failed`, with its error), told to `alerts` (in the
    /// background), and thrown; the local backup is never touched.
    @discardableResult
    public func runUpload(
        _ prepared: PreparedUpload, alerts: AlertNotifier? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        defer { prepared.lease.release() }
        let id = prepared.record.id
        do {
            return try await uploadHoldingLock(id: id, progress: progress)
        } catch {
            // The webhook hears of a copy that starts failing, not of every retry that fails again.
            if let alerts, Self.alertsOfUpload(error), prepared.record.offsiteStatus != .failed {
                alerts.uploadFailed(try? catalog.record(id: id).info, message: error.message)
            }
            throw error
        }
    }

    /// Uploads a completed local backup: `uploading`, then `uploaded` once the bucket's size and
    /// sidecar are confirmed (``S3Store/replicate(file:sha256:as:metadata:progress:)``; an
    /// incremental backup's new packs, then its index: ``replicateRepositoryBackup(_:to:progress:)``), or
    /// `failed` with the error, which is thrown. Remote retention runs after a success. The
    /// caller holds the job lock.
    func uploadHoldingLock(
        id: String, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws(BackupError) -> BackupInfo {
        let record = try catalog.record(id: id)
        guard record.status == .completed, Self.isUploadable(record.store), let sha256 = record.sha256 else {
            throw .notCompleted(id: id, status: record.status, action: .download)
        }
        guard let target = try offsiteTarget() else {
            throw .invalidInput(fields: ["offsite.enabled": "off-site copies are off"])
        }
        let remote = S3Store(target: target, temporary: dataDirectory.temporary)
        let incremental = record.store == RepositoryLayout.storeName
        let key =
            incremental
            ? RemoteRepository(store: remote).key("\(RepositoryLayout.indexFolder)/\(record.filename)")
            : remote.objectKey(record.filename)
        try catalog.setOffsite(id: id, OffsiteCopy(status: .uploading, key: key))
        do throws(BackupError) {
            if incremental {
                let report = try await replicateRepositoryBackup(record, to: remote) { sent, total in
                    progress(JobProgress(backupID: id, phase: .upload, doneBytes: sent, totalBytes: total))
                }
                Self.offsiteLogger.info(
                    "incremental backup uploaded",
                    metadata: [
                        "backup_id": "\(id)", "packs_uploaded": "\(report.packsUploaded.count)",
                        "bytes_sent": "\(report.bytesSent)",
                    ])
            } else {
                let file = try localStore.bundleFile(record.filename)
                let total = record.sizeBytes ?? FileOps.size(of: file) ?? 0
                progress(JobProgress(backupID: id, phase: .upload, doneBytes: 0, totalBytes: total))
                _ = try await remote.replicate(
                    file: file, sha256: sha256, as: record.filename, metadata: Self.objectMetadata(record)
                ) { sent in
                    progress(JobProgress(backupID: id, phase: .upload, doneBytes: sent, totalBytes: total))
                }
            }
            try catalog.setOffsite(id: id, OffsiteCopy(status: .uploaded, key: key, uploadedAt: now()))
            metrics.uploadEnded(.succeeded)
        } catch {
            try? catalog.setOffsite(id: id, OffsiteCopy(status: .failed, key: key, error: error.message))
            metrics.uploadEnded(error == .cancelled ? .cancelled : .failed)
            Self.offsiteLogger.error(
                "off-site upload failed", metadata: ["backup_id": "\(id)", "error": "\(error.message)"])
            throw error
        }
        do throws(BackupError) {
            _ = try await pruneRemoteHoldingLock(dryRun: false)
        } catch {
            Self.offsiteLogger.error("off-site retention failed", metadata: ["error": "\(error.message)"])
        }
        return try catalog.record(id: id).info
    }

    /// Whether backups kept in `store` are uploaded: the local store's bundles and the local
    /// repository's incremental backups.
    static func isUploadable(_ store: String) -> Bool {
        store == LocalStore.storeName || store == RepositoryLayout.storeName
    }

    /// The metadata every uploaded object carries (`x-amz-meta-…`). An incremental backup's index
    /// also carries its format, the bytes it restores to and the bytes it added: what another
    /// machine's listing shows without reading the index (``RemoteRepository/indexes(with:)``).
    static func objectMetadata(_ record: BackupRecord) -> [String: String] {
        var metadata = [
            "backup-id": record.id, "backup-type": record.type.rawValue,
            "created-at": RFC3339.string(from: record.createdAt), "sha256": record.sha256 ?? "",
        ]
        if record.format == .incremental {
            metadata["backup-format"] = record.format.rawValue
            if let logical = record.logicalBytes { metadata["logical-bytes"] = String(logical) }
            if let size = record.sizeBytes { metadata["size-bytes"] = String(size) }
        }
        return metadata
    }

    static let offsiteLogger = Logger(label: "offsite")
}

extension BackupService {
    /// Whether `offsite.enabled` is on: completed backups are then copied to the bucket, and
    /// local retention keeps the only copy of those still waiting.
    func offsiteCopiesEnabled() throws(BackupError) -> Bool {
        try catalog.settings().offsite.enabled
    }
}
