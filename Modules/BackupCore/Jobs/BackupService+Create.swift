import Foundation

/// A backup whose record exists (`pending`) and whose job lock is held, ready to run.
public struct PreparedBackup: Sendable {
    public let record: BackupRecord
    /// Released when the run ends; nil when the caller holds the lock for longer work (a
    /// restore's safety backup).
    let lease: JobLease?
    let estimatedBytes: Int64
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
            return PreparedBackup(record: prepared.record, lease: lease, estimatedBytes: prepared.estimatedBytes)
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
        let databaseBytes = FileOps.size(of: dataDirectory.database) ?? 0
        let walBytes = FileOps.size(of: URL(fileURLWithPath: dataDirectory.database.path + "-wal")) ?? 0
        let estimate = databaseBytes + walBytes
        let needed = 2 * estimate + Self.spaceMargin
        let available = try freeSpace(dataDirectory.backups)
        guard available >= needed else { throw .insufficientSpace(needed: needed, available: available) }

        let record = BackupRecord(
            id: BackupID.make(), type: type, createdAt: now(), note: note, noteKind: noteKind, noteArgs: noteArgs)
        try catalog.insert(record)
        return PreparedBackup(record: record, lease: nil, estimatedBytes: estimate)
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
        let reporter = ProgressReporter(catalog: catalog, id: record.id, sink: progress)
        do throws(BackupError) {
            record.status = .running
            record.totalBytes = 2 * prepared.estimatedBytes
            try catalog.update(record)

            let snapshot = try await snapshotEngine.snapshot(source: dataDirectory.database, destination: snapshotURL) {
                step in
                reporter.report(
                    phase: .snapshot, done: step.bytesDone, total: 2 * step.byteCount, phaseDone: step.bytesDone,
                    phaseTotal: step.byteCount, pagesDone: step.pagesDone, pageCount: step.pageCount)
            }
            if Task.isCancelled { throw BackupError.cancelled }

            let settings = try catalog.settings()
            let manifest = Manifest(
                formatVersion: Manifest.currentFormatVersion, id: record.id, type: record.type,
                createdAt: record.createdAt, sourcePath: dataDirectory.database.path,
                sqliteVersion: snapshot.sqliteVersion, pageSize: snapshot.pageSize, pageCount: snapshot.pageCount,
                userVersion: snapshot.userVersion, toolVersion: BackupManagerVersion.current, entries: [])
            let total = 2 * snapshot.byteCount
            let written = try BundleWriter(compressionLevel: settings.compressionLevel).write(
                snapshot: snapshotURL, manifest: manifest, filename: record.filename,
                temporary: dataDirectory.temporary, store: localStore
            ) { bytes in
                reporter.report(
                    phase: .compress, done: snapshot.byteCount + bytes, total: total, phaseDone: bytes,
                    phaseTotal: snapshot.byteCount)
            }

            record.status = .completed
            record.sizeBytes = written.sizeBytes
            record.sha256 = written.sha256
            record.completedAt = now()
            record.durationMs = Int64(clock().timeIntervalSince(started) * 1000)
            record.sourcePageCount = Int64(snapshot.pageCount)
            record.doneBytes = total
            record.totalBytes = total
            try catalog.update(record)
            applyRetentionAfterJob(justMade: record.id)
            return record.info
        } catch {
            // Free the snapshot's space first: on a full disk the catalog needs it to record the failure.
            SnapshotEngine.removeDatabaseFiles(at: snapshotURL)
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

    /// A disk that filled up mid-backup, reported with what the backup needs and what is free
    /// now (the writer only knows how far it got).
    private func spaceFigures(_ error: BackupError, estimatedBytes: Int64) -> BackupError {
        guard case .insufficientSpace = error else { return error }
        let available = (try? freeSpace(dataDirectory.backups)) ?? 0
        return .insufficientSpace(needed: 2 * estimatedBytes + Self.spaceMargin, available: available)
    }

    /// Retention after every backup; a failure to prune never fails the backup, and the backup
    /// just made is never deleted by it (so a create that reports success has its bundle on disk).
    private func applyRetentionAfterJob(justMade: String?) {
        _ = try? pruneHoldingLock(dryRun: false, justMade: justMade)
    }

    /// Prepares and runs a backup in one call (the CLI's path). When it fails (not when it is
    /// cancelled or busy), `alerts` hears about it and the call waits for the delivery.
    @discardableResult
    public func createBackup(
        type: BackupType = .manual, note: String? = nil, alerts: AlertNotifier? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        let prepared = try prepareBackup(type: type, note: note)
        do {
            return try await run(prepared, progress: progress)
        } catch {
            if error != .cancelled, let alerts {
                let failed = try? catalog.record(id: prepared.record.id).info
                _ = await alerts.backupFailed(failed, message: error.message)?.value
            }
            throw error
        }
    }
}
