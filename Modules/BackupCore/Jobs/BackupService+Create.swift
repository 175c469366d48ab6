import Foundation
import Logging

/// A backup whose record exists (`pending`) and whose job lock is held, ready to run.
public struct PreparedBackup: Sendable {
    public let record: BackupRecord
    /// Released when the run ends; nil when the caller holds the lock for longer work (a
    /// restore's safety backup).
    let lease: JobLease?
    let estimatedBytes: Int64
    /// The compression the settings chose when the record (and so its file name) was made.
    let codec: CodecName
    let compressionLevel: Int
    /// What the bundle is encrypted to (nil: not encrypted), as the settings said at the start.
    let lock: AgeLock?
}

extension BackupService {
    /// Bytes kept free beyond the estimate, so a backup never fills the disk to the last block.
    static let spaceMargin: Int64 = 16 * 1024 * 1024

    /// Takes the job lock, checks free space and records a `pending` backup.
    ///
    /// Fails at once with ``BackupError/backupInProgress`` when another job runs, and with
    /// ``BackupError/insufficientSpace(needed:available:)`` when the snapshot and bundle would
    /// not fit (both live in `backups/` until the snapshot is removed).
    /// The note is checked by ``BackupNote`` before anything else.
    public func prepareBackup(type: BackupType, note: String?) throws(BackupError) -> PreparedBackup {
        let note = try BackupNote.validated(note)
        let lease = try beginJob()
        do throws(BackupError) {
            let prepared = try prepareBackupHoldingLock(type: type, note: note)
            return PreparedBackup(
                record: prepared.record, lease: lease, estimatedBytes: prepared.estimatedBytes, codec: prepared.codec,
                compressionLevel: prepared.compressionLevel, lock: prepared.lock)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Checks space and records a `pending` backup; the caller holds the job lock and keeps it,
    /// and has validated `note`.
    func prepareBackupHoldingLock(
        type: BackupType, note: String?, noteKind: NoteKind? = nil, noteArgs: [String: String]? = nil
    ) throws(BackupError) -> PreparedBackup {
        guard FileManager.default.fileExists(atPath: dataDirectory.database.path) else {
            throw .sourceUnavailable(path: dataDirectory.database.path, reason: "no such file")
        }
        let estimate = SQLiteSource(database: dataDirectory.database).estimatedBytes()
        let needed = 2 * estimate + Self.spaceMargin
        let available = try freeSpace(dataDirectory.backups)
        guard available >= needed else { throw .insufficientSpace(needed: needed, available: available) }

        let settings = try catalog.settings()
        let lock = try encryptionLock(settings.encryption)
        let record = BackupRecord(
            id: BackupID.make(), type: type, createdAt: now(), note: note, noteKind: noteKind, noteArgs: noteArgs,
            codec: settings.codec, encrypted: lock != nil)
        try catalog.insert(record)
        return PreparedBackup(
            record: record, lease: nil, estimatedBytes: estimate, codec: settings.codec,
            compressionLevel: settings.compressionLevel, lock: lock)
    }

    /// Runs a prepared backup to its end and releases the job lock.
    ///
    /// The record goes `running`, then `completed`, `failed` or `cancelled` (task cancellation).
    /// On any failure no partial file is left in `backups/`.
    @discardableResult
    public func run(
        _ prepared: PreparedBackup, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        defer { prepared.lease?.release() }
        var record = prepared.record
        let started = clock()
        let snapshotURL = dataDirectory.temporary.appendingPathComponent("snapshot-\(record.id).sqlite")
        defer { SnapshotEngine.removeDatabaseFiles(at: snapshotURL) }
        // Room for the catalog to record a failure on a disk that filled up meanwhile (a snapshot
        // read in place leaves no copy whose removal would free space).
        let reserve = SpaceReserve(in: dataDirectory.temporary, name: "reserve-\(record.id)")
        defer { reserve.release() }
        let reporter = ProgressReporter(catalog: catalog, id: record.id, sink: progress)
        do throws(BackupError) {
            record.status = .running
            record.totalBytes = 2 * prepared.estimatedBytes
            try catalog.update(record)

            let template = Manifest(id: record.id, type: record.type, createdAt: record.createdAt)
            let database = dataDirectory.database
            let (filename, temporary, store) = (record.filename, dataDirectory.temporary, localStore)
            let (codec, level, lock) = (prepared.codec, prepared.compressionLevel, prepared.lock)
            // The snapshot phase is the copy, when one is needed: reading in place skips it.
            let (snapshot, written) = try await snapshotEngine.withSnapshot(
                source: dataDirectory.database, scratch: snapshotURL,
                progress: { step in
                    reporter.report(
                        phase: .snapshot, done: step.bytesDone, total: 2 * step.byteCount, phaseDone: step.bytesDone,
                        phaseTotal: step.byteCount, pagesDone: step.pagesDone, pageCount: step.pageCount)
                }
            ) { (view) throws(BackupError) in
                let source = SQLiteSource(database: database, snapshot: (view.reader, view.result))
                let written = try BundleWriter(codec: codec, compressionLevel: level, lock: lock).write(
                    sources: [source], manifest: template, filename: filename,
                    temporary: temporary, store: store
                ) { bytes in
                    reporter.report(
                        phase: .compress, done: view.byteCount + bytes, total: 2 * view.byteCount, phaseDone: bytes,
                        phaseTotal: view.byteCount)
                }
                return (view.result, written)
            }
            // A cancel accepted while the bundle was being finished still wins.
            if Task.isCancelled {
                try? localStore.delete(written.key)
                throw BackupError.cancelled
            }
            let total = 2 * snapshot.byteCount

            record.status = .completed
            record.sizeBytes = written.sizeBytes
            record.sha256 = written.sha256
            record.completedAt = now()
            record.durationMs = Int64(clock().timeIntervalSince(started) * 1000)
            record.sourcePageCount = Int64(snapshot.pageCount)
            record.doneBytes = total
            record.totalBytes = total
            record.offsiteStatus = initialOffsiteStatus()
            try catalog.update(record)
            applyRetentionAfterJob(justMade: record.id)
            return record.info
        } catch {
            // Free space first: on a full disk the catalog needs it to record the failure.
            SnapshotEngine.removeDatabaseFiles(at: snapshotURL)
            reserve.release()
            let error = spaceFigures(error, estimatedBytes: prepared.estimatedBytes)
            record.status = error == .cancelled ? .cancelled : .failed
            record.error = error == .cancelled ? "cancelled" : error.message
            record.completedAt = now()
            record.durationMs = Int64(clock().timeIntervalSince(started) * 1000)
            try? catalog.update(record)
            applyRetentionAfterJob(justMade: nil)
            throw error
        }
    }

    /// A disk that filled up mid-backup (the writer's `ENOSPC`, SQLite's `SQLITE_FULL` in the
    /// snapshot), reported with what the backup needs and what is free now (neither knows more
    /// than how far it got).
    private func spaceFigures(_ error: BackupError, estimatedBytes: Int64) -> BackupError {
        switch error {
        case .insufficientSpace, .diskFull: break
        default: return error
        }
        let available = (try? freeSpace(dataDirectory.backups)) ?? 0
        return .insufficientSpace(needed: 2 * estimatedBytes + Self.spaceMargin, available: available)
    }

    /// Retention after every backup; a failure to prune never fails the backup (it is logged and
    /// shown in the stats, see ``RetentionFailure``), and the backup just made is never deleted
    /// by it (so a create that reports success has its bundle on disk).
    private func applyRetentionAfterJob(justMade: String?) {
        do throws(BackupError) {
            try pruneHoldingLock(dryRun: false, justMade: justMade)
        } catch {
            Self.retentionLogger.error("retention after a backup failed", metadata: ["error": "\(error.message)"])
        }
    }

    /// Prepares and runs a backup in one call (the CLI's path), then makes its off-site copy
    /// when off-site copies are on (so a cron job is enough). When the backup fails (not when it
    /// is cancelled or busy), `alerts` hears about it and the call waits for the delivery. A
    /// failed upload does not fail the backup: the returned record says `failed` with the error
    /// (and `alerts` hears of it); it is retried later.
    @discardableResult
    public func createBackup(
        type: BackupType = .manual, note: String? = nil, alerts: AlertNotifier? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        let prepared = try prepareBackup(type: type, note: note)
        let info: BackupInfo
        do {
            info = try await run(prepared, progress: progress)
        } catch {
            if error != .cancelled, let alerts {
                let failed = try? catalog.record(id: prepared.record.id).info
                _ = await alerts.backupFailed(failed, message: error.message)?.value
            }
            throw error
        }
        return await uploadIfPending(info, alerts: alerts, progress: progress)
    }
}
