import Crypto
import Foundation

/// What was written: the finished bundle and its checksums.
public struct WrittenBundle: Sendable, Equatable {
    public var url: URL
    public var sizeBytes: Int64
    public var sha256: String
    public var manifest: Manifest
}

/// Streams a backup's sources into a `.tar.gz` or `.tar.zst` bundle: each source's entries (the SQLite
/// database's `database.sqlite`), then `manifest.json`.
///
/// One pass over the data: each chunk is hashed for the manifest, framed as tar and deflated,
/// and the compressed bytes are hashed for the bundle as they are written. Memory stays at a few
/// fixed buffers. The bundle is written in `backups/.tmp/`, fsynced, renamed into `backups/`
/// with its sidecar, and the directory is fsynced: a crash leaves either nothing in `backups/`
/// or a complete bundle.
struct BundleWriter {
    var codec: CodecName = .gzip
    var compressionLevel: Int
    var chunkSize = 256 * 1024

    /// Bundles `sources` as `filename` into `directory`, using `temporary` for the partial file.
    /// The manifest is `template` with the sources' records and every entry filled in;
    /// `progress` gets the bytes of source data written so far.
    func write(
        sources: [any BackupSource], manifest template: Manifest, filename: String, temporary: URL, directory: URL,
        progress: (Int64) -> Void
    ) throws(BackupError) -> WrittenBundle {
        let partial = temporary.appendingPathComponent(filename + ".partial")
        let partialSidecar = temporary.appendingPathComponent(BundleName.sidecar(for: filename) + ".partial")
        var keepPartials = false
        defer {
            if !keepPartials {
                FileOps.removeIfPresent(partial)
                FileOps.removeIfPresent(partialSidecar)
            }
        }

        let output = try OutputFile(creating: partial)
        var bundleHash = SHA256()
        let gzip = try codec.codec.writer(level: compressionLevel) { (chunk) throws(BackupError) in
            bundleHash.update(bufferPointer: chunk)
            try output.write(chunk)
        }

        let sink = BundleEntrySink(bundleTime: template.createdAt, chunkSize: chunkSize) {
            (chunk) throws(BackupError) in try gzip.write(chunk)
        }
        var manifest = template
        manifest.sources = []
        var written: Int64 = 0
        for source in sources {
            let before = written
            manifest.sources.append(try source.write(into: sink) { bytes in progress(before + bytes) })
            written = sink.entries.reduce(0) { $0 + $1.size }
        }
        manifest.entries = sink.entries
        try sink.finish(manifest: try manifest.encoded())
        try gzip.finish()
        try output.sync()
        output.close()

        let sha256 = bundleHash.finalize().hexString
        let sidecar = try OutputFile(creating: partialSidecar)
        try sidecar.write(Array("\(sha256)  \(filename)\n".utf8))
        try sidecar.sync()
        sidecar.close()

        let destination = directory.appendingPathComponent(filename)
        try FileOps.rename(partial, to: destination)
        try FileOps.rename(partialSidecar, to: directory.appendingPathComponent(BundleName.sidecar(for: filename)))
        keepPartials = true
        try FileOps.fsyncDirectory(directory)
        try FileOps.fsyncDirectory(temporary)
        return WrittenBundle(url: destination, sizeBytes: output.bytesWritten, sha256: sha256, manifest: manifest)
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
