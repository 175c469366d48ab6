import Crypto
import Foundation

/// An import in progress: the bytes stream into `backups/.tmp/` as they arrive.
///
/// Feed it with ``write(_:)`` (memory stays flat), then ``finish()`` to verify and record it, or
/// let it go: an unfinished import removes its partial file. Receiving takes no lock, so a slow
/// upload never blocks backups; ``finish()`` takes the job lock for the verification and the
/// record. While it is written, the partial file is `flock`ed, so whoever takes the job lock
/// meanwhile (and empties `.tmp/`) leaves it alone.
///
/// Every write is checked against the size limit (``BackupSettings/maxImportBytes``) and, every
/// mebibyte, against the free space (a floor of ``BackupService/spaceMargin`` must stay free),
/// whether the upload announced its length or not: crossing either is
/// ``BackupError/payloadTooLarge(size:limit:)`` at once, and nothing is left behind.
///
/// `@unchecked Sendable`: an import is driven by one task at a time, in sequence (writes, then
/// ``finish(progress:)`` or ``abandon()``), only handed from the receiving task to the blocking
/// threads or to the job that finishes it while that task waits for them; nothing touches it
/// concurrently.
public final class BundleImport: @unchecked Sendable {
    /// How often (in bytes received) the free space is measured again.
    static let spaceCheckInterval: Int64 = 1 << 20

    private let service: BackupService
    /// The import's own id (its partial file's name) until the manifest gives the backup's:
    /// the `backup_id` its job shows while it runs.
    public let id = BackupID.make()
    private let maximumBytes: Int64
    private let partial: URL
    private let output: OutputFile
    private var nextSpaceCheck: Int64 = 0
    private var done = false

    init(service: BackupService, maximumBytes: Int64) throws(BackupError) {
        self.service = service
        self.maximumBytes = maximumBytes
        try service.dataDirectory.prepare()
        partial = service.dataDirectory.temporary.appendingPathComponent("import-\(id).partial")
        output = try OutputFile(creating: partial)
        guard output.lock() else {
            output.close()
            FileOps.removeIfPresent(partial)
            throw .io(path: partial.path, reason: "cannot lock the partial import")
        }
    }

    /// The bytes received so far.
    public var bytesReceived: Int64 { output.bytesWritten }

    /// Appends received bytes; refuses them past the size limit or when the disk would be left
    /// with less than the free-space floor.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        let total = output.bytesWritten + Int64(bytes.count)
        guard total <= maximumBytes else { throw .payloadTooLarge(size: total, limit: maximumBytes) }
        if total >= nextSpaceCheck {
            let available = try service.freeSpace(service.dataDirectory.backups)
            let room = available - BackupService.spaceMargin - Int64(bytes.count)
            guard room >= 0 else {
                throw .payloadTooLarge(size: total, limit: max(0, output.bytesWritten + room + Int64(bytes.count)))
            }
            nextSpaceCheck = total + min(Self.spaceCheckInterval, room)
        }
        try output.write(bytes)
    }

    /// Verifies what was received as a bundle and records it as `imported`, under the
    /// manifest's id and time (`created_at`; `recorded_at` is now, by this machine's clock), holding the
    /// job lock (``BackupError/backupInProgress`` while another job runs). Anything else is refused and
    /// leaves nothing behind. `progress` follows the verification (phase `verify`, bytes of the
    /// bundle read).
    public func finish(
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) throws(BackupError) -> BackupInfo {
        defer { abandon() }
        guard output.bytesWritten > 0 else { throw .invalidInput(fields: ["body": "is empty; send a bundle"]) }
        try output.sync()
        // The lock first, the partial file's own lock after: taking the job lock empties `.tmp/`
        // of everything nobody holds.
        let lease = try service.beginJob()
        defer { lease.release() }
        output.close()
        let dataDirectory = service.dataDirectory
        let (id, total) = (self.id, output.bytesWritten)
        let report = try BundleVerifier(keys: try service.bundleKeys(), postgres: service.postgresEnvironment).verify(
            bundle: partial, expectedSHA256: nil, expectedID: nil, temporary: dataDirectory.temporary
        ) { done in progress(JobProgress(backupID: id, phase: .verify, doneBytes: done, totalBytes: total)) }
        guard report.isValid, let manifest = report.manifest else {
            throw .verificationFailed(reason: report.problems.joined(separator: "; "))
        }
        guard BackupID.isValid(manifest.id) else {
            throw .verificationFailed(reason: "the manifest id is not a backup id")
        }
        if (try? service.catalog.record(id: manifest.id)) != nil {
            throw .duplicateBackup(id: manifest.id)
        }
        var record = BackupRecord(
            id: manifest.id, type: .imported, createdAt: manifest.createdAt, note: nil, recordedAt: service.now(),
            codec: report.codec ?? .gzip, encrypted: report.encrypted)
        try service.store(for: record).put(partial: partial, sha256: report.bundleSHA256, as: record.filename)

        record.status = .completed
        record.sizeBytes = output.bytesWritten
        record.sha256 = report.bundleSHA256
        record.completedAt = service.now()
        record.describe(manifest)
        record.verifiedAt = record.completedAt
        record.offsiteStatus = service.initialOffsiteStatus()
        try service.catalog.insert(record)
        return record.info
    }

    /// Drops the import: removes the partial file.
    public func abandon() {
        guard !done else { return }
        done = true
        FileOps.removeIfPresent(partial)
        output.close()
    }

    deinit { abandon() }
}

extension BackupService {
    /// Starts an import: refuses one announced larger than the size limit or the free space
    /// (``BackupError/payloadTooLarge(size:limit:)``: the upload is too large, not the disk too
    /// small) and opens a partial file in `.tmp/`. No lock is taken until ``BundleImport/finish()``.
    public func beginImport(expectedBytes: Int64? = nil) throws(BackupError) -> BundleImport {
        let maximumBytes = try catalog.settings().maxImportBytes
        if let expectedBytes {
            guard expectedBytes <= maximumBytes else {
                throw .payloadTooLarge(size: expectedBytes, limit: maximumBytes)
            }
            let available = try freeSpace(dataDirectory.backups)
            if expectedBytes > available - Self.spaceMargin {
                throw .payloadTooLarge(size: expectedBytes, limit: max(0, available - Self.spaceMargin))
            }
        }
        return try BundleImport(service: self, maximumBytes: maximumBytes)
    }
}
