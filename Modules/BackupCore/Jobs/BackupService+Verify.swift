import Foundation

extension BackupService {
    /// Verifies a backup's bundle under the job lock; throws
    /// ``BackupError/verificationFailed(reason:)`` with every difference found.
    ///
    /// An incremental backup gets a structure check (its index reads and is its own, every chunk
    /// is in a pack that is there with its recorded size) unless `readData` asks for every byte:
    /// then it is exported and the export verified as a bundle. A bundle is always read whole.
    @discardableResult
    public func verify(
        id: String, readData: Bool = false, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> VerificationReport {
        try runVerification(try prepareVerification(id: id, readData: readData), progress: progress)
    }

    /// Takes the job lock for verifying backup `id` (which must exist and allow it), without
    /// starting; `readData` as in ``verify(id:readData:progress:)``.
    public func prepareVerification(id: String, readData: Bool = false) throws(BackupError) -> PreparedVerification {
        _ = try catalog.record(id: id)
        let lease = try beginJob()
        do throws(BackupError) {
            // Read again under the lock: reconciliation may have found its bundle gone.
            let record = try catalog.record(id: id)
            try record.ensure(.verify)
            return PreparedVerification(record: record, readData: readData, lease: lease)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Verifies a prepared backup, records the outcome on it, and releases the job lock.
    @discardableResult
    public func runVerification(
        _ prepared: PreparedVerification, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) throws(BackupError) -> VerificationReport {
        defer { prepared.lease.release() }
        return try verifyHoldingLock(
            id: prepared.record.id, lease: prepared.lease, readData: prepared.readData, progress: progress)
    }

    /// Verifies every backup that should have a bundle (completed, and missing ones, which
    /// stay counted until their bundle is back or they are deleted) under one job lock, newest
    /// first. Failures are reported per backup, not thrown. `readData` as in
    /// ``verify(id:readData:progress:)``.
    public func verifyAll(
        readData: Bool = false, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> [VerificationResult] {
        // Taking the lock reconciles: a completed record whose bundle vanished is `missing` by now.
        let lease = try beginJob()
        defer { lease.release() }
        var results: [VerificationResult] = []
        for record in try catalog.allRecords() where record.status.allows(.verify) {
            if Task.isCancelled { throw .cancelled }
            var problem: String?
            do {
                _ = try verifyHoldingLock(id: record.id, lease: lease, readData: readData, progress: progress)
            } catch {
                if error == .cancelled { throw error }
                if case .verificationFailed(let reason) = error { problem = reason } else { problem = error.message }
            }
            let info = (try? catalog.record(id: record.id).info) ?? record.info
            let verdict: VerificationResult.Verdict =
                info.status == .missing ? .missing : problem == nil ? .verified : .failed
            results.append(VerificationResult(info: info, verdict: verdict, problem: problem))
        }
        return results
    }

    /// Verifies backup `id` under `lease`, which marks it in use meanwhile (no delete), and
    /// counts the verdict in ``metrics`` (a backup that cannot be verified at all, an unknown
    /// id or one that does not allow it, counts nothing, nor does a cancelled verification).
    func verifyHoldingLock(
        id: String, lease: JobLease, readData: Bool = false, progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> VerificationReport {
        let record = try catalog.record(id: id)
        try record.ensure(.verify)
        var missing = false
        do throws(BackupError) {
            let report = try verifyBundleHoldingLock(
                record, lease: lease, readData: readData, missing: &missing, progress: progress)
            metrics.verificationEnded(.verified)
            return report
        } catch {
            switch error {
            case .cancelled: break
            case .verificationFailed: metrics.verificationEnded(missing ? .missing : .failed)
            default: metrics.verificationEnded(.error)
            }
            throw error
        }
    }

    /// ``verifyHoldingLock(id:lease:readData:progress:)``'s work on `record`; `missing` tells
    /// that the bundle (or an incremental backup's index) was found gone.
    private func verifyBundleHoldingLock(
        _ record: BackupRecord, lease: JobLease, readData: Bool, missing: inout Bool,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> VerificationReport {
        let id = record.id
        try lease.use(id, for: .verify, at: now())
        defer { lease.endUse(of: id) }
        var record = record
        if record.isInRepository, record.store == S3Store.storeName {
            // A remote-only incremental backup is pulled into the local repository, then checked there.
            record = try pullRepositoryBackupBlocking(record, progress: progress)
        }
        let report =
            record.isInRepository
            ? try repositoryVerification(of: record, readData: readData, missing: &missing, progress: progress)
            : try bundleVerification(of: record, missing: &missing, progress: progress)
        let failure = report.isValid ? nil : report.problems.joined(separator: "; ")
        try catalog.recordVerification(id: id, at: now(), error: failure)
        if let failure { throw .verificationFailed(reason: failure) }
        // A record made without reading its bundle (a remote-only one listed from the bucket)
        // learns what the bundle holds.
        if let manifest = report.manifest {
            var described = record
            described.describe(manifest)
            if described.scope != record.scope || described.sourceWarnings != record.sourceWarnings {
                try catalog.recordContents(of: described)
            }
        }
        return report
    }

    /// Reads `record`'s bundle end to end (``BundleVerifier``) and compares its sidecar.
    private func bundleVerification(
        of record: BackupRecord, missing: inout Bool, progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> VerificationReport {
        let id = record.id
        let store = try store(for: record)
        guard let total = try store.size(of: record.filename) else {
            // Honest about it: the backup is no longer restorable, so it no longer says completed.
            let reason = "the bundle file \(record.filename) is missing"
            try catalog.markMissing(id: id, reason: reason, at: now())
            missing = true
            throw .verificationFailed(reason: reason)
        }
        let keys = try bundleKeys()
        var report = try store.open(record.filename) { (bundle) throws(BackupError) in
            try BundleVerifier(keys: keys, postgres: postgresEnvironment).verify(
                bundle: bundle, expectedSHA256: record.sha256, expectedID: record.id,
                temporary: dataDirectory.temporary
            ) { done in
                progress(JobProgress(backupID: id, phase: .verify, doneBytes: done, totalBytes: total))
            }
        }
        if let sidecar = try store.checksum(of: record.filename), sidecar != report.bundleSHA256 {
            report.problems.append("the sidecar \(BundleName.sidecar(for: record.filename)) says \(sidecar)")
        }
        return report
    }
}

/// One backup's outcome in ``BackupService/verifyAll(progress:)``.
public struct VerificationResult: Sendable {
    /// How a verification ended.
    public enum Verdict: String, Codable, Sendable {
        /// The bundle is whole.
        case verified
        /// The bundle is there but differs from what it claims (see ``problem``).
        case failed
        /// The bundle file is gone; the record is now `missing`.
        case missing
    }

    /// The backup as it stands after the verification.
    public var info: BackupInfo
    public var verdict: Verdict
    /// What was wrong; nil when verified.
    public var problem: String?
}

/// A verification whose job lock is held, ready to run.
public struct PreparedVerification: Sendable {
    public let record: BackupRecord
    /// Whether an incremental backup's chunks are all read (an export), not only located.
    public let readData: Bool
    let lease: JobLease
}
