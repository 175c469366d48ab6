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

/// Streams a backup's sources into a `.tar.gz` or `.tar.zst` bundle: each source's entries (the SQLite
/// database's `database.sqlite`), then `manifest.json`; with a ``lock``, the compressed stream is
/// encrypted in the age format on its way to the file (`codec → age → store`).
///
/// One pass over the data: each chunk is hashed for the manifest, framed as tar and compressed
/// (and encrypted), and the bytes of the file are hashed for the bundle as they are written: the
/// bundle's SHA-256 and its sidecar are over the file as stored (the ciphertext), so
/// `sha256sum -c` and the off-site checks need no key; the manifest keeps the plaintext hashes. Memory stays at a few
/// fixed buffers. The bundle is written in `backups/.tmp/` and handed to the store's
/// ``BundleStore/put(partial:sha256:as:)``, which makes it durable: a crash leaves either nothing
/// in the store or a complete bundle with its sidecar.
struct BundleWriter {
    var codec: CodecName = .gzip
    var compressionLevel: Int
    /// What the bundle is encrypted to; nil writes it in the clear.
    var lock: AgeLock? = nil
    var chunkSize = 256 * 1024

    /// Bundles `sources` as `filename` into `store`, using `temporary` for the partial file.
    /// The manifest is `template` with the sources' records and every entry filled in;
    /// `progress` gets the bytes of source data written so far.
    func write(
        sources: [any BackupSource], manifest template: Manifest, filename: String, temporary: URL,
        store: some BundleStore,
        progress: (Int64) -> Void
    ) throws(BackupError) -> WrittenBundle {
        let partial = temporary.appendingPathComponent(filename + ".partial")
        defer { FileOps.removeIfPresent(partial) }

        let output = try OutputFile(creating: partial)
        var bundleHash = SHA256()
        let toFile: CompressedSink = { (chunk) throws(BackupError) in
            bundleHash.update(bufferPointer: chunk)
            try output.write(chunk)
        }
        let encryption = try lock.map { (lock) throws(BackupError) in try AgeEncryptingWriter(lock: lock, sink: toFile)
        }
        let gzip = try codec.codec.writer(level: compressionLevel) { (chunk) throws(BackupError) in
            if let encryption { try encryption.write(chunk) } else { try toFile(chunk) }
        }

        let sink = BundleEntrySink(bundleTime: template.createdAt, chunkSize: chunkSize) {
            (chunk) throws(BackupError) in try gzip.write(chunk)
        }
        let manifest = try sink.write(sources, into: template, progress: progress)
        try sink.finish(manifest: try manifest.encoded())
        try gzip.finish()
        try encryption?.finish()
        // Synced here too, so a full disk found by fsync reads as one (the store's sync is then cheap).
        try output.sync()
        output.close()

        let sha256 = bundleHash.finalize().hexString
        try store.put(partial: partial, sha256: sha256, as: filename)
        return WrittenBundle(key: filename, sizeBytes: output.bytesWritten, sha256: sha256, manifest: manifest)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    var hexString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * underestimatedCount)
        for byte in self {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The digits of ``Swift/Sequence/hexString``.
private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
