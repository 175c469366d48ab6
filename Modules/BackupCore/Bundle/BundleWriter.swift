import Crypto
import Foundation

/// What was written: the finished bundle and its checksums.
public struct WrittenBundle: Sendable, Equatable {
    public var url: URL
    public var sizeBytes: Int64
    public var sha256: String
    public var manifest: Manifest
}

/// Streams a snapshot file into a `.tar.gz` or `.tar.zst` bundle (`database.sqlite`, then `manifest.json`).
///
/// One pass over the snapshot: each chunk is hashed for the manifest, framed as tar and
/// deflated, and the compressed bytes are hashed for the bundle as they are written. Memory
/// stays at a few fixed buffers. The bundle is written in `backups/.tmp/`, fsynced, renamed into
/// `backups/` with its sidecar, and the directory is fsynced: a crash leaves either nothing in
/// `backups/` or a complete bundle.
struct BundleWriter {
    var codec: CodecName = .gzip
    var compressionLevel: Int
    var chunkSize = 256 * 1024

    /// Bundles the `snapshotBytes` bytes `snapshot` reads as `filename` into `directory`,
    /// using `temporary` for the partial file.
    func write(
        snapshot: SnapshotReader, snapshotBytes databaseSize: Int64, manifest template: Manifest, filename: String,
        temporary: URL,
        directory: URL,
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

    /// Feeds the snapshot's `expectedSize` bytes through the compressing writer, returning their SHA-256.
    private func streamFile(
        _ input: SnapshotReader, expectedSize: Int64, into gzip: any CompressingWriter, progress: (Int64) -> Void
    ) throws(BackupError) -> String {
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while total < expectedSize {
            if Task.isCancelled { throw .cancelled }
            let wanted = Int(min(Int64(chunkSize), expectedSize - total))
            let count = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: total)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try gzip.write(chunk)
            total += Int64(count)
            progress(total)
        }
        guard total == expectedSize else {
            throw .io(
                path: Manifest.databaseEntryName,
                reason: "snapshot ended early while bundling (\(total) of \(expectedSize) bytes)")
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
