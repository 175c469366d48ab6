import Foundation

extension BackupService {
    /// Imports the bundle at `file` (the CLI's `backup import PATH`): the same path as an upload,
    /// read in 1 MiB chunks, verified, and recorded as `imported`; nothing is left on refusal.
    /// A missing file or one that is no bundle at all is refused before anything is locked or copied.
    /// `progress` follows the copy (phase `copy`), then the verification (phase `verify`).
    public func importBundle(
        from file: URL, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) throws(BackupError) -> BackupInfo {
        try BundleFile.check(file)
        let handle: FileHandle
        let size: Int64
        do {
            handle = try FileHandle(forReadingFrom: file)
            size = Int64(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
        } catch {
            throw .io(path: file.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        defer { try? handle.close() }
        let session = try beginImport(expectedBytes: size)
        do throws(BackupError) {
            while let chunk = try Self.nextChunk(of: handle, at: file) {
                try Array(chunk).withBytes { (bytes) throws(BackupError) in try session.write(bytes) }
                progress(
                    JobProgress(backupID: session.id, phase: .copy, doneBytes: session.bytesReceived, totalBytes: size))
            }
            return try session.finish(progress: progress)
        } catch {
            session.abandon()
            throw error
        }
    }

    /// Up to 1 MiB from `handle`; nil at the end of the file.
    private static func nextChunk(of handle: FileHandle, at file: URL) throws(BackupError) -> Data? {
        do {
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else { return nil }
            return chunk
        } catch {
            throw .io(path: file.path, reason: "read failed (\(error.localizedDescription))")
        }
    }
}
