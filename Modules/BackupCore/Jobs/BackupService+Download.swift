import Foundation

/// A completed backup's bundle, ready to be read out of its store in ranges (a download).
public struct BundleDownload: Sendable {
    public let record: BackupRecord
    /// The bundle's size in its store.
    public let sizeBytes: Int64
    /// `application/gzip` or `application/zstd`, by the bundle's first bytes.
    public let contentType: String
    let store: any BundleStore

    /// Exactly `length` bytes from `offset`; refused outside the bundle. Blocking: an async
    /// caller runs it on a thread pool.
    public func read(offset: Int64, length: Int) throws(BackupError) -> [UInt8] {
        try store.read(record.filename, offset: offset, length: length)
    }
}

extension BackupService {
    /// The bundle of a backup that may be downloaded: only completed ones, read from the store
    /// and under the key the catalog records, never from anything in the request.
    public func downloadableBundle(id: String) throws(BackupError) -> BundleDownload {
        let record = try catalog.record(id: id)
        try record.ensure(.download)
        let store = try store(for: record)
        guard let size = try store.size(of: record.filename) else { throw .notFound(id: id) }
        // The type goes by the bundle's first bytes, as every reader does, not by its name.
        let head = try store.read(record.filename, offset: 0, length: Int(min(size, 4)))
        let contentType = CodecName.detect(head: head)?.contentType ?? "application/octet-stream"
        return BundleDownload(record: record, sizeBytes: size, contentType: contentType, store: store)
    }
}
