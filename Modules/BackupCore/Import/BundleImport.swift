import Crypto
import Foundation

/// An import in progress: the job lock is held and the bytes stream into `backups/.tmp/`.
///
/// Feed it with ``write(_:)`` as the bytes arrive (memory stays flat), then ``finish()`` to
/// verify and record it, or let it go: an unfinished import removes its partial file.
public final class BundleImport {
    private let service: BackupService
    private let lease: JobLease
    private let partial: URL
    private let output: OutputFile
    private var done = false

    init(service: BackupService, lease: JobLease) throws(BackupError) {
        self.service = service
        self.lease = lease
        partial = service.dataDirectory.temporary.appendingPathComponent("import-\(BackupID.make()).partial")
        do {
            output = try OutputFile(creating: partial)
        } catch {
            lease.release()
            throw error
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        try output.write(bytes)
    }

    /// Verifies what was received as a bundle and records it as `imported`, under the
    /// manifest's id and time (`created_at`; `recorded_at` is now, by this machine's clock).
    /// Anything else is refused and leaves nothing behind.
    public func finish() throws(BackupError) -> BackupInfo {
        defer { abandon() }
        guard output.bytesWritten > 0 else { throw .invalidInput(fields: ["body": "is empty; send a bundle"]) }
        try output.sync()
        output.close()
        let dataDirectory = service.dataDirectory
        let report = try BundleVerifier().verify(
            bundle: partial, expectedSHA256: nil, expectedID: nil, temporary: dataDirectory.temporary)
        guard report.isValid, let manifest = report.manifest else {
            throw .verificationFailed(reason: report.problems.joined(separator: "; "))
        }
        guard BackupID.isValid(manifest.id) else {
            throw .verificationFailed(reason: "the manifest id is not a backup id")
        }
        if (try? service.catalog.record(id: manifest.id)) != nil {
            throw .conflict(reason: "backup \(manifest.id) is already in the catalog")
        }
        var record = BackupRecord(
            id: manifest.id, type: .imported, createdAt: manifest.createdAt, note: nil, recordedAt: service.now())
        let destination = try dataDirectory.bundle(named: record.filename)
        let sidecar = dataDirectory.backups.appendingPathComponent(BundleName.sidecar(for: record.filename))
        let sidecarPartial = dataDirectory.temporary.appendingPathComponent(BundleName.sidecar(for: record.filename))
        let sidecarFile = try OutputFile(creating: sidecarPartial)
        try sidecarFile.write(Array("\(report.bundleSHA256)  \(record.filename)\n".utf8))
        try sidecarFile.sync()
        sidecarFile.close()
        try FileOps.rename(partial, to: destination)
        try FileOps.rename(sidecarPartial, to: sidecar)
        try FileOps.fsyncDirectory(dataDirectory.backups)

        record.status = .completed
        record.sizeBytes = output.bytesWritten
        record.sha256 = report.bundleSHA256
        record.completedAt = service.now()
        record.sourcePageCount = Int64(manifest.pageCount)
        record.verifiedAt = record.completedAt
        try service.catalog.insert(record)
        return record.info
    }

    /// Drops the import: removes the partial file and releases the lock.
    public func abandon() {
        guard !done else { return }
        done = true
        output.close()
        FileOps.removeIfPresent(partial)
        lease.release()
    }

    deinit { abandon() }
}

extension BackupService {
    /// Starts an import: refuses one announced larger than the free space
    /// (``BackupError/payloadTooLarge(size:limit:)``: the upload is too large, not the disk too
    /// small), takes the job lock and opens a partial file in `.tmp/`.
    public func beginImport(expectedBytes: Int64? = nil) throws(BackupError) -> BundleImport {
        if let expectedBytes {
            let available = try freeSpace(dataDirectory.backups)
            if expectedBytes > available - Self.spaceMargin {
                throw .payloadTooLarge(size: expectedBytes, limit: max(0, available - Self.spaceMargin))
            }
        }
        return try BundleImport(service: self, lease: try acquireJobLock())
    }
}
