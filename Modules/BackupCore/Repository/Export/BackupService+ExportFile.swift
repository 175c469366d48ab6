import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A backup written out as a classic bundle file by ``BackupService/exportBackup(id:to:progress:)``.
public struct ExportedFile: Sendable, Equatable {
    public var path: String
    public var sizeBytes: Int64
    public var sha256: String
    public var codec: CodecName
    /// Whether the file was made from an incremental backup's chunks (else it is a copy of the
    /// backup's bundle).
    public var fromRepository: Bool
}

extension BackupService {
    /// Writes backup `id` as a classic, self-contained bundle at `output` (`backup export`): the
    /// codec named by its extension (`.tar.gz`, `.tar.zst`). An incremental backup is exported
    /// from its chunks (each checked against its hash, each file against its SHA-256); a bundle
    /// backup is copied when its codec is the one asked (refused otherwise, and refused when
    /// encrypted: an export is a bundle in the clear). The file is written as `output.partial`,
    /// synced and linked into place: an existing `output` is never overwritten, and a failure
    /// leaves nothing. Runs under the job lock (so no prune moves chunks meanwhile). Blocking.
    public func exportBackup(
        id: String, to output: URL, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) throws(BackupError) -> ExportedFile {
        guard let codec = CodecName.allCases.first(where: { output.lastPathComponent.hasSuffix($0.fileExtension) })
        else {
            throw .invalidInput(fields: ["output": "must end in .tar.gz or .tar.zst (the export's compression)"])
        }
        let partial = URL(fileURLWithPath: output.path + ".partial")
        for existing in [output, partial] where Self.isPresent(existing) {
            throw .invalidInput(fields: ["output": "\(existing.path) exists; an export never overwrites a file"])
        }
        guard FileOps.exists(output.deletingLastPathComponent()) else {
            throw .invalidInput(fields: [
                "output": "the folder \(output.deletingLastPathComponent().path) does not exist"
            ])
        }
        _ = try catalog.record(id: id)
        let lease = try beginJob()
        defer { lease.release() }
        let record = try catalog.record(id: id)
        try record.ensure(.download)
        // Marked in use as a verification does (an export reads, and checks, the whole backup).
        try lease.use(id, for: .verify, at: now())
        defer { lease.endUse(of: id) }
        defer { FileOps.removeIfPresent(partial) }

        let written: (sizeBytes: Int64, sha256: String)
        if record.isInRepository {
            let exporter = try repositoryExporter(for: record, codec: codec, level: codec.defaultLevel)
            let index = try repositoryIndex(of: record, with: exporter)
            let total = index.logicalBytes
            let exported = try exporter.export(index, to: partial) {
                progress(JobProgress(backupID: id, phase: .compress, doneBytes: $0, totalBytes: total))
            }
            written = (exported.sizeBytes, exported.sha256)
        } else {
            written = try store(for: record).open(record.filename) { (bundle) throws(BackupError) in
                if EncryptedBundle.isEncrypted(fileAt: bundle) {
                    throw .invalidInput(fields: [
                        "id":
                            "backup \(id)'s bundle is encrypted; an export is in the clear: restore it, or copy \(record.filename) as it is"
                    ])
                }
                guard let stored = CodecName.detect(fileAt: bundle), stored == codec else {
                    let actual = CodecName.detect(fileAt: bundle)?.fileExtension ?? "unknown"
                    throw .invalidInput(fields: [
                        "output": "backup \(id) is a \(actual) bundle: give an output ending in \(actual)"
                    ])
                }
                return try Self.copy(bundle, to: partial) {
                    progress(JobProgress(backupID: id, phase: .copy, doneBytes: $0, totalBytes: $1))
                }
            }
            if let expected = record.sha256, expected != written.sha256 {
                throw .verificationFailed(
                    reason: "the bundle \(record.filename) has SHA-256 \(written.sha256), expected \(expected)")
            }
        }
        try Self.place(partial, at: output)
        return ExportedFile(
            path: output.path, sizeBytes: written.sizeBytes, sha256: written.sha256, codec: codec,
            fromRepository: record.isInRepository)
    }

    /// Copies `source` to `target` (created), hashing it on the way, then syncs it.
    private static func copy(
        _ source: URL, to target: URL, progress: (Int64, Int64) -> Void
    ) throws(BackupError) -> (sizeBytes: Int64, sha256: String) {
        let input = try InputFile(reading: source)
        let output = try OutputFile(creating: target)
        let total = FileOps.size(of: source) ?? 0
        var hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if Task.isCancelled { throw .cancelled }
            let count = try buffer.withMutableBytes { (raw) throws(BackupError) in try input.readFully(into: raw) }
            if count == 0 { break }
            try buffer.withBytes { (raw) throws(BackupError) in
                let part = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                hash.update(bufferPointer: part)
                try output.write(part)
            }
            progress(output.bytesWritten, total)
        }
        try output.sync()
        output.close()
        return (output.bytesWritten, hash.finalize().hexString)
    }

    /// Puts the finished `partial` at `output` unless something is there by now (a hard link,
    /// which refuses an existing name, then the partial name removed), and syncs the folder.
    private static func place(_ partial: URL, at output: URL) throws(BackupError) {
        if link(partial.path, output.path) != 0 {
            let code = errno
            if code == EEXIST {
                throw .invalidInput(fields: ["output": "\(output.path) exists; an export never overwrites a file"])
            }
            // A file system without hard links: the check above is as close as it gets.
            guard !isPresent(output) else {
                throw .invalidInput(fields: ["output": "\(output.path) exists; an export never overwrites a file"])
            }
            try FileOps.rename(partial, to: output)
        }
        FileOps.removeIfPresent(partial)
        try FileOps.fsyncDirectory(output.deletingLastPathComponent())
    }

    /// Whether anything (a file, a folder, a symlink, even a dangling one) is at `url`.
    private static func isPresent(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }
}
