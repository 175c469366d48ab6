import Foundation

/// What to restore from.
public enum RestoreSource: Sendable, Equatable {
    /// A backup in the catalog.
    case backup(id: String)
    /// A bundle file anywhere (the CLI's maintenance path).
    case file(URL)
}

/// A verified restore, holding the job lock, ready to replace the database.
public struct PreparedRestore: Sendable {
    public let backupID: String?
    public let manifest: Manifest
    let extracted: URL
    let lease: JobLease
}

/// Progress of a restore, for the faces.
public enum RestoreStep: Sendable, Equatable {
    case verifying(JobProgress)
    /// Waiting for the write lock on the live database, at most `restore_lock_timeout_seconds`.
    case waitingForLock
    case safetyBackup(JobProgress)
    /// Writing into the live database: from here on a failure may have changed it.
    case replacing
}

extension BackupService {
    /// Takes the job lock and verifies the bundle (SHA-256, manifest, entry hashes,
    /// `integrity_check`), extracting the database into `.tmp/`, before anything touches the
    /// live database. A bundle that fails is refused with ``BackupError/verificationFailed(reason:)``.
    public func prepareRestore(
        _ source: RestoreSource, progress: @escaping @Sendable (RestoreStep) -> Void = { _ in }
    ) throws(BackupError) -> PreparedRestore {
        let lease = try beginJob()
        do throws(BackupError) {
            let keys = try bundleKeys()
            let extracted = dataDirectory.temporary.appendingPathComponent("restore-\(BackupID.make()).sqlite")
            var expectedID: String?
            /// Verifies the bundle at `bundle` (a local file) and keeps its database at `extracted`.
            func verified(
                _ bundle: URL, expectedSHA: String?, expectedID: String?
            ) throws(BackupError)
                -> VerificationReport
            {
                let total = FileOps.size(of: bundle) ?? 0
                return try BundleVerifier(keys: keys).verify(
                    bundle: bundle, expectedSHA256: expectedSHA, expectedID: expectedID,
                    temporary: dataDirectory.temporary, keepDatabaseAt: extracted
                ) { done in
                    progress(
                        .verifying(
                            JobProgress(backupID: expectedID ?? "", phase: .verify, doneBytes: done, totalBytes: total))
                    )
                }
            }
            let report: VerificationReport
            switch source {
            case .backup(let id):
                let record = try catalog.record(id: id)
                try record.ensure(.restore)
                try lease.use(id, for: .restore, at: now())
                expectedID = record.id
                let store = try store(for: record)
                guard try store.size(of: record.filename) != nil else {
                    throw BackupError.verificationFailed(reason: "the bundle file \(record.filename) is missing")
                }
                report = try store.open(record.filename) { (bundle) throws(BackupError) in
                    try verified(bundle, expectedSHA: record.sha256, expectedID: record.id)
                }
            case .file(let url):
                try BundleFile.check(url)
                guard FileOps.isRegularFile(url) else {
                    throw BackupError.verificationFailed(reason: "the bundle file \(url.lastPathComponent) is missing")
                }
                report = try verified(url, expectedSHA: nil, expectedID: nil)
            }
            guard report.isValid, let manifest = report.manifest else {
                throw BackupError.verificationFailed(reason: report.problems.joined(separator: "; "))
            }
            return PreparedRestore(
                backupID: expectedID ?? manifest.id, manifest: manifest, extracted: extracted, lease: lease)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Takes the write lock on the live database, the safety backup (unless declined) and the
    /// replacement under that one lock, checks the result, records the outcome in the data
    /// directory, and releases the job lock.
    ///
    /// The lock (`BEGIN IMMEDIATE` on the live database) makes the application's writers wait from
    /// before the safety snapshot until the replacement has committed, so every write the
    /// application saw committed is in the safety backup or was made after the replacement. The
    /// wait for the lock is bounded by the `restore_lock_timeout_seconds` setting; after it the
    /// restore fails with ``BackupError/databaseLocked(seconds:)`` and the database is unchanged.
    /// The outcome (with how long writers waited) is recorded whether the restore succeeded or
    /// failed; a failure before ``RestoreStep/replacing`` leaves the live database as it was.
    ///
    /// - Parameters:
    ///   - beforeLocking: runs right before the wait for the lock (the server enters
    ///     maintenance and drains there).
    ///   - recorded: gets the outcome as soon as it is recorded, a failure's too (which the
    ///     call then throws): the server restarts with it.
    @discardableResult
    public func runRestore(
        _ prepared: PreparedRestore, safetyBackup: Bool = true,
        progress: @escaping @Sendable (RestoreStep) -> Void = { _ in },
        beforeLocking: @Sendable () async -> Void = {},
        recorded: @Sendable (RestoreOutcome) -> Void = { _ in }
    ) async throws(BackupError) -> RestoreOutcome {
        defer {
            SnapshotEngine.removeDatabaseFiles(at: prepared.extracted)
            prepared.lease.release()
        }
        var safetyID: String?
        var writersWaited: Int64?
        do throws(BackupError) {
            if Task.isCancelled { throw BackupError.cancelled }
            let timeout = Duration.seconds(try catalog.settings().restoreLockTimeoutSeconds)
            await beforeLocking()
            let hadDatabase = FileManager.default.fileExists(atPath: dataDirectory.database.path)
            var waited: Duration?
            do throws(BackupError) {
                try await SQLiteSource(database: dataDirectory.database).restore(
                    from: SourceWorkspace(database: prepared.extracted), timeout: timeout, writersWaited: &waited,
                    progress: progress
                ) { () async throws(BackupError) in
                    if safetyBackup, hadDatabase {
                        let safety = try prepareBackupHoldingLock(
                            type: .preRestore, note: nil, noteKind: .preRestore,
                            noteArgs: prepared.backupID.map { ["backup_id": $0] } ?? [:])
                        safetyID = safety.record.id
                        try await run(safety) { progress(.safetyBackup($0)) }
                    }
                }
            } catch {
                writersWaited = waited.map(Self.milliseconds)
                throw error
            }
            writersWaited = waited.map(Self.milliseconds)
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .succeeded, error: nil,
                safetyBackupID: safetyID, writersWaitedMs: writersWaited)
            try dataDirectory.recordRestore(outcome)
            recorded(outcome)
            return outcome
        } catch {
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .failed, error: error.message,
                safetyBackupID: safetyID, writersWaitedMs: writersWaited)
            try? dataDirectory.recordRestore(outcome)
            recorded(outcome)
            throw error
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Records a restore that failed before it started (its bundle did not verify, say).
    func recordFailedRestore(backupID: String?, error: BackupError) {
        try? dataDirectory.recordRestore(
            RestoreOutcome(
                backupID: backupID, finishedAt: now(), outcome: .failed, error: error.message, safetyBackupID: nil))
    }
}
