import Foundation
import Logging

/// A backup whose record exists (`pending`) and whose job lock is held, ready to run.
public struct PreparedBackup: Sendable {
    public let record: BackupRecord
    /// Released when the run ends; nil when the caller holds the lock for longer work (a
    /// restore's safety backup).
    let lease: JobLease?
    /// The database's bytes (0 when the scope leaves it out, and for PostgreSQL until the run
    /// asks the server) and the directories' bytes.
    var estimatedBytes: Int64
    let filesEstimatedBytes: Int64
    /// The compression the settings chose when the record (and so its file name) was made.
    let codec: CodecName
    let compressionLevel: Int
    /// What the bundle is encrypted to (nil: not encrypted), as the settings said at the start.
    let lock: AgeLock?
    /// What the bundle holds, and the directories and exclude patterns as the settings said at
    /// the start (used only when the scope includes files).
    let scope: BackupScope
    let directories: [String]
    let exclude: [String]
    /// How the backup is stored, as the settings said at the start.
    let format: BackupFormat
}

extension BackupService {
    /// Bytes kept free beyond the estimate, so a backup never fills the disk to the last block.
    static let spaceMargin: Int64 = 16 * 1024 * 1024

    /// Takes the job lock, checks free space and records a `pending` backup.
    ///
    /// Fails at once with ``BackupError/backupInProgress`` when another job runs, and with
    /// ``BackupError/insufficientSpace(needed:available:)`` when the snapshot and bundle would
    /// not fit (both live in `backups/` until the snapshot is removed). A PostgreSQL database's
    /// size is asked from the server when the backup runs (a child process, which must not
    /// block the caller's thread), so its space check fails the record there instead.
    /// The note is checked by ``BackupNote`` and the scope by ``BackupSettings/scope(asked:)``
    /// (nil: the settings' `default_scope`) before anything else.
    public func prepareBackup(
        type: BackupType, note: String?, scope: BackupScope? = nil
    ) throws(BackupError) -> PreparedBackup {
        let note = try BackupNote.validated(note)
        let scope = try catalog.settings().scope(asked: scope)
        let lease = try beginJob()
        do throws(BackupError) {
            let prepared = try prepareBackupHoldingLock(type: type, note: note, scope: scope)
            return PreparedBackup(
                record: prepared.record, lease: lease, estimatedBytes: prepared.estimatedBytes,
                filesEstimatedBytes: prepared.filesEstimatedBytes, codec: prepared.codec,
                compressionLevel: prepared.compressionLevel, lock: prepared.lock, scope: prepared.scope,
                directories: prepared.directories, exclude: prepared.exclude, format: prepared.format)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Checks space and records a `pending` backup of `scope`; the caller holds the job lock and
    /// keeps it, and has validated `note`.
    func prepareBackupHoldingLock(
        type: BackupType, note: String?, noteKind: NoteKind? = nil, noteArgs: [String: String]? = nil,
        scope: BackupScope = .database
    ) throws(BackupError) -> PreparedBackup {
        let settings = try catalog.settings()
        let scope = try settings.scope(asked: scope)
        if scope.includesDatabase, case .sqlite(let database) = dataDirectory.location,
            !FileManager.default.fileExists(atPath: database.path)
        {
            throw .sourceUnavailable(path: database.path, reason: "no such file")
        }
        let estimate = try estimatedBytes(scope: scope, settings: settings)
        let format = settings.format
        if format == .incremental, try !catalog.repositoryPacks().isEmpty {
            try checkIncrementalSpace(database: estimate.database, files: estimate.files)
        } else {
            try checkSpace(database: estimate.database, files: estimate.files)
        }

        let lock = try encryptionLock(settings.encryption)
        var record = BackupRecord(
            id: BackupID.make(), type: type, createdAt: now(), note: note, noteKind: noteKind, noteArgs: noteArgs,
            codec: settings.codec, encrypted: lock != nil, scope: scope)
        if format == .incremental {
            // Refused before anything is recorded when encryption changed since the repository was made.
            _ = try RepositoryConfig.existing(at: dataDirectory.repository, encrypted: lock != nil)
            record.format = .incremental
            record.store = RepositoryLayout.storeName
            record.filename = RepositoryLayout.indexFilename(record.id, encrypted: lock != nil)
        }
        try catalog.insert(record)
        return PreparedBackup(
            record: record, lease: nil, estimatedBytes: estimate.database, filesEstimatedBytes: estimate.files,
            codec: settings.codec,
            compressionLevel: settings.compressionLevel, lock: lock, scope: scope, directories: settings.directories,
            exclude: settings.exclude, format: format)
    }

    /// Fails with ``BackupError/insufficientSpace(needed:available:)`` unless `backups/` has room
    /// for the database twice (the snapshot or dump spool, and the bundle: both live there until
    /// the first is removed), the directories once, and the margin.
    func checkSpace(database: Int64, files: Int64) throws(BackupError) {
        let needed = 2 * database + files + Self.spaceMargin
        let available = try freeSpace(dataDirectory.backups)
        guard available >= needed else { throw .insufficientSpace(needed: needed, available: available) }
    }

    /// The space check of an incremental backup once the repository holds packs: the snapshot
    /// (or dump spool) as for a bundle, and for what the backup adds, unknown before hashing,
    /// a tenth of the sources' bytes but at least ``incrementalFloor``, and the margin. A disk
    /// that fills up anyway fails the backup cleanly (the open pack is removed).
    func checkIncrementalSpace(database: Int64, files: Int64) throws(BackupError) {
        let needed = database + max((database + files) / 10, Self.incrementalFloor) + Self.spaceMargin
        let available = try freeSpace(dataDirectory.backups)
        guard available >= needed else { throw .insufficientSpace(needed: needed, available: available) }
    }

    /// The least room an incremental backup asks for its new packs.
    static let incrementalFloor: Int64 = 64 * 1024 * 1024

    /// Runs a prepared backup to its end and releases the job lock.
    ///
    /// The record goes `running`, then `completed`, `failed` or `cancelled` (task cancellation).
    /// On any failure no partial file is left in `backups/`.
    @discardableResult
    public func run(
        _ prepared: PreparedBackup, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        defer { prepared.lease?.release() }
        var prepared = prepared
        var record = prepared.record
        let started = clock()
        let snapshotURL = dataDirectory.temporary.appendingPathComponent("snapshot-\(record.id).sqlite")
        defer { SnapshotEngine.removeDatabaseFiles(at: snapshotURL) }
        let spool = dataDirectory.temporary.appendingPathComponent("dump-\(record.id).pgdump")
        defer { FileOps.removeIfPresent(spool) }
        // Room for the catalog to record a failure on a disk that filled up meanwhile (a snapshot
        // read in place leaves no copy whose removal would free space).
        let reserve = SpaceReserve(in: dataDirectory.temporary, name: "reserve-\(record.id)")
        defer { reserve.release() }
        let reporter = ProgressReporter(catalog: catalog, id: record.id, sink: progress)
        do throws(BackupError) {
            record.status = .running
            record.totalBytes = 2 * prepared.estimatedBytes + prepared.filesEstimatedBytes
            try catalog.update(record)

            var server: PostgresSource.ServerFacts?
            if prepared.scope.includesDatabase, case .postgres(let url) = dataDirectory.location {
                let source = PostgresSource(url: url, environment: postgresEnvironment)
                let facts = try await BlockingWork.run { () throws(BackupError) in try source.probe() }
                prepared.estimatedBytes = facts.databaseSize
                if prepared.format == .incremental, try !catalog.repositoryPacks().isEmpty {
                    try checkIncrementalSpace(database: facts.databaseSize, files: prepared.filesEstimatedBytes)
                } else {
                    try checkSpace(database: facts.databaseSize, files: prepared.filesEstimatedBytes)
                }
                server = facts
            }
            let outcome: (firstPhaseBytes: Int64, stored: Int64, sha256: String, manifest: Manifest)
            switch prepared.format {
            case .bundle:
                let (firstPhaseBytes, written) = try await writeBundle(
                    prepared, snapshotURL: snapshotURL, spool: spool, server: server, reporter: reporter)
                // A cancel accepted while the bundle was being finished still wins.
                if Task.isCancelled {
                    try? localStore.delete(written.key)
                    throw BackupError.cancelled
                }
                outcome = (firstPhaseBytes, written.sizeBytes, written.sha256, written.manifest)
            case .incremental:
                let (firstPhaseBytes, written) = try await writeIncremental(
                    prepared, snapshotURL: snapshotURL, spool: spool, server: server, reporter: reporter)
                // The index is in place, the record not yet completed (a crash test kills here).
                RestorePause.reach("incremental:index-placed")
                if Task.isCancelled {
                    try? deleteRepositoryIndex(of: record)
                    throw BackupError.cancelled
                }
                outcome = (firstPhaseBytes, written.sizeBytes, written.sha256, written.manifest)
            }
            // Progress counted the database twice (snapshot or dump, then bundle) and the files once.
            let entryBytes = outcome.manifest.entries.reduce(Int64(0)) { $0 + $1.size }
            let total = outcome.firstPhaseBytes + entryBytes

            record.status = .completed
            record.sizeBytes = outcome.stored
            record.logicalBytes = entryBytes
            record.sha256 = outcome.sha256
            record.completedAt = now()
            record.durationMs = Int64(clock().timeIntervalSince(started) * 1000)
            record.describe(outcome.manifest)
            record.doneBytes = total
            record.totalBytes = total
            record.offsiteStatus = initialOffsiteStatus()
            try catalog.update(record)
            metrics.backupEnded(
                type: record.type, scope: record.scope, outcome: .succeeded,
                duration: clock().timeIntervalSince(started), bundleBytes: outcome.stored)
            applyRetentionAfterJob(justMade: record.id)
            return record.info
        } catch {
            // Free space first: on a full disk the catalog needs it to record the failure.
            SnapshotEngine.removeDatabaseFiles(at: snapshotURL)
            FileOps.removeIfPresent(spool)
            reserve.release()
            let error = spaceFigures(error, prepared: prepared)
            record.status = error == .cancelled ? .cancelled : .failed
            record.error = error == .cancelled ? "cancelled" : error.message
            record.completedAt = now()
            record.durationMs = Int64(clock().timeIntervalSince(started) * 1000)
            try? catalog.update(record)
            metrics.backupEnded(
                type: record.type, scope: record.scope, outcome: error == .cancelled ? .cancelled : .failed,
                duration: clock().timeIntervalSince(started), bundleBytes: nil)
            applyRetentionAfterJob(justMade: nil)
            throw error
        }
    }

    /// A disk that filled up mid-backup (the writer's `ENOSPC`, SQLite's `SQLITE_FULL` in the
    /// snapshot), reported with what the backup needs and what is free now (neither knows more
    /// than how far it got).
    private func spaceFigures(_ error: BackupError, prepared: PreparedBackup) -> BackupError {
        switch error {
        case .insufficientSpace, .diskFull: break
        default: return error
        }
        let available = (try? freeSpace(dataDirectory.backups)) ?? 0
        let needed = 2 * prepared.estimatedBytes + prepared.filesEstimatedBytes + Self.spaceMargin
        return .insufficientSpace(needed: needed, available: available)
    }

    /// Retention after every backup; a failure to prune never fails the backup (it is logged and
    /// shown in the stats, see ``RetentionFailure``), and the backup just made is never deleted
    /// by it (so a create that reports success has its bundle on disk).
    private func applyRetentionAfterJob(justMade: String?) {
        do throws(BackupError) {
            _ = try pruneHoldingLock(dryRun: false, justMade: justMade)
        } catch {
            Self.retentionLogger.error("retention after a backup failed", metadata: ["error": "\(error.message)"])
        }
    }

    /// Prepares and runs a backup in one call (the CLI's path; `scope` nil: `default_scope`), then makes its off-site copy
    /// when off-site copies are on (so a cron job is enough). When the backup ends (not when it
    /// is cancelled or busy), `alerts` hears about it (failed or succeeded: the heartbeat) and the
    /// call waits for the delivery. A
    /// failed upload does not fail the backup: the returned record says `failed` with the error
    /// (and `alerts` hears of it); it is retried later.
    @discardableResult
    public func createBackup(
        type: BackupType = .manual, note: String? = nil, scope: BackupScope? = nil, alerts: AlertNotifier? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> BackupInfo {
        let prepared = try prepareBackup(type: type, note: note, scope: scope)
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
        // The heartbeat (and the success message) while the upload runs; waited for before the end.
        let succeeded = alerts?.backupSucceeded(info)
        let uploaded = await uploadIfPending(info, alerts: alerts, progress: progress)
        _ = await succeeded?.value
        return uploaded
    }
}
