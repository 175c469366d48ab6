import Foundation

extension BackupService {
    /// Verifies a backup's bundle under the job lock; throws
    /// ``BackupError/verificationFailed(reason:)`` with every difference found.
    @discardableResult
    public func verify(
        id: String, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> VerificationReport {
        try runVerification(try prepareVerification(id: id), progress: progress)
    }

    /// Takes the job lock for verifying backup `id` (which must exist), without starting.
    public func prepareVerification(id: String) throws(BackupError) -> PreparedVerification {
        let record = try catalog.record(id: id)
        let lease = try acquireJobLock()
        return PreparedVerification(record: record, lease: lease)
    }

    /// Verifies a prepared backup, records the outcome on it, and releases the job lock.
    @discardableResult
    public func runVerification(
        _ prepared: PreparedVerification, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) throws(BackupError) -> VerificationReport {
        defer { prepared.lease.release() }
        return try verifyHoldingLock(id: prepared.record.id, progress: progress)
    }

    /// Verifies every completed backup under one job lock, newest first. Failures are
    /// reported per backup, not thrown.
    public func verifyAll(
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> [(BackupInfo, Result<VerificationReport, BackupError>)] {
        let lease = try acquireJobLock()
        defer { lease.release() }
        var results: [(BackupInfo, Result<VerificationReport, BackupError>)] = []
        for record in try catalog.records(status: .completed) {
            if Task.isCancelled { throw .cancelled }
            do {
                results.append((record.info, .success(try verifyHoldingLock(id: record.id, progress: progress))))
            } catch {
                if error == .cancelled { throw error }
                results.append((record.info, .failure(error)))
            }
        }
        return results
    }

    func verifyHoldingLock(
        id: String, progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> VerificationReport {
        let record = try catalog.record(id: id)
        guard record.status == .completed else {
            throw .conflict(reason: "backup \(id) is \(record.status.rawValue); only completed backups can be verified")
        }
        let bundle = try dataDirectory.bundle(named: record.filename)
        guard FileOps.isRegularFile(bundle) else {
            let reason = "the bundle file \(record.filename) is missing"
            try catalog.recordVerification(id: id, at: now(), error: reason)
            throw .verificationFailed(reason: reason)
        }
        let total = FileOps.size(of: bundle) ?? 0
        var report = try BundleVerifier().verify(
            bundle: bundle, expectedSHA256: record.sha256, expectedID: record.id, temporary: dataDirectory.temporary
        ) { done in
            progress(JobProgress(backupID: id, phase: .verify, doneBytes: done, totalBytes: total))
        }
        if let sidecar = sidecarHash(for: record.filename), sidecar != report.bundleSHA256 {
            report.problems.append("the sidecar \(BundleName.sidecar(for: record.filename)) says \(sidecar)")
        }
        let failure = report.isValid ? nil : report.problems.joined(separator: "; ")
        try catalog.recordVerification(id: id, at: now(), error: failure)
        if let failure { throw .verificationFailed(reason: failure) }
        return report
    }

    /// The hash written in a bundle's `.sha256` sidecar, if the sidecar exists.
    func sidecarHash(for filename: String) -> String? {
        let url = dataDirectory.backups.appendingPathComponent(BundleName.sidecar(for: filename))
        guard FileOps.isRegularFile(url), let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return text.split(separator: " ", maxSplits: 1).first.map(String.init)
    }
}

/// A verification whose job lock is held, ready to run.
public struct PreparedVerification: Sendable {
    public let record: BackupRecord
    let lease: JobLease
}
