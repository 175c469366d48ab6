import Crypto
import Foundation

/// What was written: the finished bundle and its checksums.
public struct WrittenBundle: Sendable, Equatable {
    /// Its key in the store that holds it.
    public var key: String
    public var sizeBytes: Int64
    public var sha256: String
    public var manifest: Manifest
}

/// Streams a snapshot file into a `.tar.gz` bundle (`database.sqlite`, then `manifest.json`).
///
/// One pass over the snapshot: each chunk is hashed for the manifest, framed as tar and
/// deflated, and the compressed bytes are hashed for the bundle as they are written. Memory
/// stays at a few fixed buffers. The bundle is written in `backups/.tmp/` and handed to the
/// store's ``BundleStore/put(partial:sha256:as:)``, which makes it durable: a crash leaves either
/// nothing in the store or a complete bundle with its sidecar.
struct BundleWriter {
    var compressionLevel: Int
    var chunkSize = 256 * 1024

    /// Bundles `snapshot` as `filename` into `store`, using `temporary` for the partial file.
    func write(
        snapshot: URL, manifest template: Manifest, filename: String, temporary: URL, store: some BundleStore,
        progress: (Int64) -> Void
    ) throws(BackupError) -> WrittenBundle {
        let partial = temporary.appendingPathComponent(filename + ".partial")
        defer { FileOps.removeIfPresent(partial) }

        let output = try OutputFile(creating: partial)
        var bundleHash = SHA256()
        let gzip = ParallelGzipWriter(level: compressionLevel) { (chunk) throws(BackupError) in
            bundleHash.update(bufferPointer: chunk)
            try output.write(chunk)
        }

        guard let databaseSize = FileOps.size(of: snapshot) else {
            throw .io(path: snapshot.path, reason: "snapshot file vanished")
        }
        let createdAt = template.createdAt
        try gzip.write(Tar.header(name: Manifest.databaseEntryName, size: databaseSize, modificationTime: createdAt))
        let databaseHash = try streamFile(snapshot, expectedSize: databaseSize, into: gzip, progress: progress)
        try gzip.write([UInt8](repeating: 0, count: Tar.padding(for: databaseSize)))

        var manifest = template
        manifest.entries = [Manifest.Entry(path: Manifest.databaseEntryName, size: databaseSize, sha256: databaseHash)]
        let manifestBytes = try manifest.encoded()
        try gzip.write(
            Tar.header(name: Manifest.entryName, size: Int64(manifestBytes.count), modificationTime: createdAt))
        try gzip.write(manifestBytes)
        try gzip.write([UInt8](repeating: 0, count: Tar.padding(for: Int64(manifestBytes.count))))
        try gzip.write(Tar.endOfArchive)
        try gzip.finish()
        // Synced here too, so a full disk found by fsync reads as one (the store's sync is then cheap).
        try output.sync()
        output.close()

        let sha256 = bundleHash.finalize().hexString
        try store.put(partial: partial, sha256: sha256, as: filename)
        return WrittenBundle(key: filename, sizeBytes: output.bytesWritten, sha256: sha256, manifest: manifest)
    }

    /// Feeds a file through the gzip writer, returning its SHA-256.
    private func streamFile(
        _ url: URL, expectedSize: Int64, into gzip: ParallelGzipWriter, progress: (Int64) -> Void
    ) throws(BackupError) -> String {
        let input = try InputFile(reading: url)
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            if Task.isCancelled { throw .cancelled }
            let count = try input.readFully(into: buffer)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try gzip.write(chunk)
            total += Int64(count)
            progress(total)
        }
        guard total == expectedSize else {
            throw .io(path: url.path, reason: "snapshot changed size while bundling (\(expectedSize) → \(total))")
        }
        return hash.finalize().hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
