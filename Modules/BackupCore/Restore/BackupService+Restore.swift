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
    case safetyBackup(JobProgress)
    case replacing
}

extension BackupService {
    /// Takes the job lock and verifies the bundle (SHA-256, manifest, entry hashes,
    /// `integrity_check`), extracting the database into `.tmp/`, before anything touches the
    /// live database. A bundle that fails is refused with ``BackupError/verificationFailed(reason:)``.
    public func prepareRestore(
        _ source: RestoreSource, progress: @escaping @Sendable (RestoreStep) -> Void = { _ in }
    ) throws(BackupError) -> PreparedRestore {
        let lease = try acquireJobLock()
        do throws(BackupError) {
            let bundle: URL
            var expectedSHA: String?
            var expectedID: String?
            switch source {
            case .backup(let id):
                let record = try catalog.record(id: id)
                guard record.status == .completed else {
                    throw BackupError.conflict(
                        reason: "backup \(id) is \(record.status.rawValue); only completed backups can be restored")
                }
                bundle = try dataDirectory.bundle(named: record.filename)
                expectedSHA = record.sha256
                expectedID = record.id
            case .file(let url):
                try BundleFile.check(url)
                bundle = url
            }
            guard FileOps.isRegularFile(bundle) else {
                throw BackupError.verificationFailed(reason: "the bundle file \(bundle.lastPathComponent) is missing")
            }
            let total = FileOps.size(of: bundle) ?? 0
            let extracted = dataDirectory.temporary.appendingPathComponent("restore-\(BackupID.make()).sqlite")
            let report = try BundleVerifier().verify(
                bundle: bundle, expectedSHA256: expectedSHA, expectedID: expectedID, temporary: dataDirectory.temporary,
                keepDatabaseAt: extracted
            ) { done in
                progress(
                    .verifying(
                        JobProgress(backupID: expectedID ?? "", phase: .verify, doneBytes: done, totalBytes: total)))
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

    /// Takes the safety backup (unless declined), replaces the live database with the verified
    /// copy, checks it, records the outcome in the data directory, and releases the lock.
    ///
    /// The outcome is recorded whether the restore succeeded or failed; a failure before the
    /// replacement leaves the live database as it was.
    ///
    /// - Parameter beforeReplacing: runs after the safety backup, right before the database is
    ///   replaced (the server enters maintenance and drains there).
    @discardableResult
    public func runRestore(
        _ prepared: PreparedRestore, safetyBackup: Bool = true,
        progress: @escaping @Sendable (RestoreStep) -> Void = { _ in },
        beforeReplacing: @Sendable () async -> Void = {}
    ) async throws(BackupError) -> RestoreOutcome {
        defer {
            SnapshotEngine.removeDatabaseFiles(at: prepared.extracted)
            prepared.lease.release()
        }
        var safetyID: String?
        do throws(BackupError) {
            if safetyBackup, FileManager.default.fileExists(atPath: dataDirectory.database.path) {
                let safety = try prepareBackupHoldingLock(
                    type: .preRestore, note: nil, noteKind: .preRestore,
                    noteArgs: prepared.backupID.map { ["backup_id": $0] } ?? [:])
                safetyID = safety.record.id
                try await run(safety) { progress(.safetyBackup($0)) }
            }
            if Task.isCancelled { throw BackupError.cancelled }
            await beforeReplacing()
            progress(.replacing)
            try DatabaseReplacer.replace(live: dataDirectory.database, with: prepared.extracted)
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .succeeded, error: nil,
                safetyBackupID: safetyID)
            try dataDirectory.recordRestore(outcome)
            return outcome
        } catch {
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .failed, error: error.message,
                safetyBackupID: safetyID)
            try? dataDirectory.recordRestore(outcome)
            throw error
        }
    }

    /// Records a restore that failed before it started (its bundle did not verify, say).
    func recordFailedRestore(backupID: String?, error: BackupError) {
        try? dataDirectory.recordRestore(
            RestoreOutcome(
                backupID: backupID, finishedAt: now(), outcome: .failed, error: error.message, safetyBackupID: nil))
    }
}
