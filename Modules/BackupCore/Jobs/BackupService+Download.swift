import Foundation

/// A completed backup's bundle, ready to be read in ranges (a download): the bundle in its
/// store, or for an incremental backup an export made for this download in `backups/.tmp/`
/// (removed once the download is dropped).
public struct BundleDownload: Sendable {
    public let record: BackupRecord
    /// The bundle's size in its store (the export's size).
    public let sizeBytes: Int64
    /// `application/gzip` or `application/zstd`, by the bundle's first bytes.
    public let contentType: String
    /// The name a client saves it under: the bundle's, or for an export
    /// `backup-…-<id>.tar.zst`.
    public let filename: String
    /// The SHA-256 of the bytes served.
    public let sha256: String?
    let source: Source

    enum Source: Sendable {
        case store(any BundleStore)
        case export(TemporaryExport)
    }

    /// Whether the bytes are an export made for this request: a range of it is not offered
    /// (another request would export again).
    public var isExport: Bool {
        if case .export = source { return true }
        return false
    }

    /// Removes an export made for this download (nothing for a bundle in its store): call it
    /// once the body is written or abandoned. Dropping the last copy of the download removes it too.
    public func close() {
        if case .export(let export) = source { FileOps.removeIfPresent(export.url) }
    }

    /// Exactly `length` bytes from `offset`; refused outside the bundle. Blocking: an async
    /// caller runs it on a thread pool.
    public func read(offset: Int64, length: Int) throws(BackupError) -> [UInt8] {
        switch source {
        case .store(let store): return try store.read(record.filename, offset: offset, length: length)
        case .export(let export): return try export.read(offset: offset, length: length)
        }
    }
}

/// An export made for one download, removed from `.tmp/` when the last copy of its download
/// goes (the response's body ended, or was cut). It stays open and `flock`ed while it is
/// served, so a job starting meanwhile (which empties `.tmp/`) leaves it alone.
///
/// `@unchecked Sendable`: the one open file is only read with `pread(2)`, which any thread may
/// do at once; nothing else changes after init.
final class TemporaryExport: @unchecked Sendable {
    let url: URL
    let size: Int64
    private let file: InputFile

    init(url: URL, size: Int64) throws(BackupError) {
        self.url = url
        self.size = size
        file = try InputFile(reading: url)
        _ = file.lock()
    }

    func read(offset: Int64, length: Int) throws(BackupError) -> [UInt8] {
        guard offset >= 0, length >= 0, offset + Int64(length) <= size else {
            throw .io(path: url.lastPathComponent, reason: "the range lies outside the export")
        }
        var bytes = [UInt8](repeating: 0, count: length)
        let count = try bytes.withMutableBytes { (buffer) throws(BackupError) in
            try file.readFully(into: buffer, at: offset)
        }
        guard count == length else { throw .io(path: url.path, reason: "the export ended early") }
        return bytes
    }

    deinit { FileOps.removeIfPresent(url) }
}

extension BackupService {
    /// The record of a backup that may be downloaded: completed, with its bundle (or its index)
    /// there; checked without reading it (a download link is signed for it).
    public func downloadableRecord(id: String) throws(BackupError) -> BackupRecord {
        let record = try catalog.record(id: id)
        try record.ensure(.download)
        if record.isInRepository, record.store == S3Store.storeName {
            // Pulled into the local repository when downloaded (``downloadableBundle(id:)``).
            _ = try remoteStore()
        } else if record.isInRepository {
            let index = dataDirectory.repository.appendingPathComponent(RepositoryLayout.indexFolder)
                .appendingPathComponent(record.filename)
            guard RepositoryLayout.backupID(ofIndex: record.filename) == id, FileOps.isRegularFile(index) else {
                throw .notFound(id: id)
            }
        } else {
            guard try store(for: record).size(of: record.filename) != nil else { throw .notFound(id: id) }
        }
        return record
    }

    /// The bundle of a backup that may be downloaded: only completed ones, read from the store
    /// and under the key the catalog records, never from anything in the request. An
    /// incremental backup is exported first (zstd, in `.tmp/`; every chunk checked on the way):
    /// blocking for as long as that takes.
    public func downloadableBundle(id: String) throws(BackupError) -> BundleDownload {
        var record = try downloadableRecord(id: id)
        if record.isInRepository, record.store == S3Store.storeName {
            // A remote-only incremental backup is pulled into the local repository first.
            let lease = try beginJob()
            defer { lease.release() }
            try lease.use(id, for: .restore, at: now())
            record = try pullRepositoryBackupBlocking(record) { _ in }
        }
        if record.isInRepository {
            let exporter = try repositoryExporter(for: record, codec: .zstd, level: CodecName.zstd.defaultLevel)
            let index = try repositoryIndex(of: record, with: exporter)
            let output = dataDirectory.temporary.appendingPathComponent(
                "download-\(id)-\(BackupID.make().suffix(6)).tar.zst")
            let exported: ExportedBundle
            do throws(BackupError) {
                exported = try exporter.export(index, to: output, locked: true)
            } catch {
                FileOps.removeIfPresent(output)
                throw error
            }
            let served: TemporaryExport
            do throws(BackupError) {
                served = try TemporaryExport(url: output, size: exported.sizeBytes)
            } catch {
                FileOps.removeIfPresent(output)
                throw error
            }
            let filename = BundleName.make(
                id: id, type: record.type, createdAt: record.createdAt, codec: .zstd)
            return BundleDownload(
                record: record, sizeBytes: exported.sizeBytes, contentType: CodecName.zstd.contentType,
                filename: filename, sha256: exported.sha256, source: .export(served))
        }
        let store = try store(for: record)
        guard let size = try store.size(of: record.filename) else { throw .notFound(id: id) }
        // The type goes by the bundle's first bytes, as every reader does, not by its name.
        let head = try store.read(record.filename, offset: 0, length: Int(min(size, 4)))
        let contentType = CodecName.detect(head: head)?.contentType ?? "application/octet-stream"
        return BundleDownload(
            record: record, sizeBytes: size, contentType: contentType, filename: record.filename,
            sha256: record.sha256, source: .store(store))
    }
}
