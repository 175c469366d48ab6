import Crypto
import Foundation

/// Where sources write their entries: tar framing over the codec's stream, each file hashed as
/// it passes for the manifest. Entries are listed in the order written; a path is written once,
/// except that a regular file under `files/` may be written once more (a file that changed while
/// it was read): tar keeps the later copy, and so does the list, in the first copy's place.
final class BundleEntrySink {
    /// Takes framed bytes (the codec's input).
    typealias Output = (UnsafeRawBufferPointer) throws(BackupError) -> Void

    /// The bundle's creation time, the mtime of entries that have none of their own.
    let bundleTime: Int64
    /// Every entry written so far, as the manifest lists them.
    private(set) var entries: [Manifest.Entry] = []
    private let output: Output
    private let chunkSize: Int
    /// Each path written, with its place in ``entries``.
    private var paths: [String: Int] = [:]
    /// Paths written a second time (once is the most).
    private var superseded: Set<String> = []

    init(bundleTime: Date, chunkSize: Int = 256 * 1024, output: @escaping Output) {
        self.bundleTime = Int64(max(0, bundleTime.timeIntervalSince1970))
        self.chunkSize = chunkSize
        self.output = output
    }

    /// Streams the file at `url` as the regular file `path`; its size must not change meanwhile.
    /// `progress` gets the bytes of this file written so far.
    func addFile(
        _ url: URL, as path: String, mode: Int = 0o644, mtime: Int64? = nil, progress: (Int64) -> Void = { _ in }
    ) throws(BackupError) {
        guard let size = FileOps.size(of: url) else { throw .io(path: url.path, reason: "the file vanished") }
        let input = try InputFile(reading: url)
        try addFile(size: size, as: path, mode: mode, mtime: mtime, progress: progress) {
            (buffer, offset) throws(BackupError) in try input.readFully(into: buffer, at: offset)
        }
        guard FileOps.size(of: url) == size else {
            throw .io(path: url.path, reason: "the file grew while bundling (past \(size) bytes)")
        }
    }

    /// Streams `size` bytes that `read` gives (filling a buffer from an offset, fewer bytes only
    /// at the end) as the regular file `path`. `progress` gets the bytes written so far.
    ///
    /// - Parameter superseding: `path` was written before as a regular file under `files/` and
    ///   this copy replaces it (see ``DirectorySource/mayRepeat(_:earlier:later:)``).
    func addFile(
        size: Int64, as path: String, mode: Int = 0o644, mtime: Int64? = nil, superseding: Bool = false,
        progress: (Int64) -> Void = { _ in },
        read: (UnsafeMutableRawBufferPointer, Int64) throws(BackupError) -> Int
    ) throws(BackupError) {
        let entry = TarEntry(path: path, size: size, mode: mode, mtime: mtime ?? bundleTime)
        try begin(entry, superseding: superseding)
        var hash = SHA256()
        // Small files are the many: no 256 KiB buffer for a 2 KiB file.
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(min(Int64(chunkSize), max(size, 1))), alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while total < size {
            if Task.isCancelled { throw .cancelled }
            let wanted = Int(min(Int64(chunkSize), size - total))
            let count = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), total)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try output(chunk)
            total += Int64(count)
            progress(total)
        }
        guard total == size else {
            throw .io(path: path, reason: "the file shrank while bundling (\(size) → \(total) bytes)")
        }
        try pad(size)
        list(Self.listed(entry, sha256: hash.finalize().hexString))
    }

    /// Writes `bytes` as the regular file `path`.
    func addBytes(_ bytes: [UInt8], as path: String, mode: Int = 0o644, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, size: Int64(bytes.count), mode: mode, mtime: mtime ?? bundleTime)
        try begin(entry)
        try write(bytes)
        try pad(entry.size)
        list(Self.listed(entry, sha256: SHA256.hash(data: bytes).hexString))
    }

    /// Writes the directory `path`.
    func addDirectory(_ path: String, mode: Int = 0o755, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, type: .directory, mode: mode, mtime: mtime ?? bundleTime)
        try begin(entry)
        list(Self.listed(entry, sha256: nil))
    }

    /// Writes the symlink `path` pointing at `target`.
    func addSymlink(_ path: String, target: String, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, type: .symlink, mode: 0o777, mtime: mtime ?? bundleTime, linkTarget: target)
        try begin(entry)
        list(Self.listed(entry, sha256: nil))
    }

    /// Writes `manifest.json` (which lists every other entry, so it is not listed itself) and
    /// the end of the archive.
    func finish(manifest bytes: [UInt8]) throws(BackupError) {
        let entry = TarEntry(path: Manifest.entryName, size: Int64(bytes.count), mode: 0o644, mtime: bundleTime)
        try begin(entry)
        try write(bytes)
        try pad(entry.size)
        try write(Tar.endOfArchive)
    }

    private func begin(_ entry: TarEntry, superseding: Bool = false) throws(BackupError) {
        do throws(BackupError) {
            try TarReader.checkPath(entry.path)
        } catch {
            throw .io(path: entry.path, reason: "cannot be stored in a bundle: \(error.message)")
        }
        if let index = paths[entry.path] {
            guard superseding, !superseded.contains(entry.path),
                DirectorySource.mayRepeat(entry.path, earlier: entries[index].type, later: entry.type)
            else {
                throw .io(path: entry.path, reason: "written twice into one bundle")
            }
        } else if superseding {
            throw .io(path: entry.path, reason: "supersedes nothing in the bundle")
        }
        try write(Tar.header(for: entry))
    }

    /// Lists a written entry: appended, or in the place of the copy it supersedes.
    private func list(_ entry: Manifest.Entry) {
        if let index = paths[entry.path] {
            entries[index] = entry
            superseded.insert(entry.path)
        } else {
            paths[entry.path] = entries.count
            entries.append(entry)
        }
    }

    private func pad(_ size: Int64) throws(BackupError) {
        let count = Tar.padding(for: size)
        if count > 0 { try write([UInt8](repeating: 0, count: count)) }
    }

    private func write(_ bytes: [UInt8]) throws(BackupError) {
        // `withUnsafeBytes` rethrows untyped errors; carry the typed one out by hand.
        var failure: BackupError?
        bytes.withUnsafeBytes { buffer in
            do throws(BackupError) { try output(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private static func listed(_ entry: TarEntry, sha256: String?) -> Manifest.Entry {
        Manifest.Entry(
            path: entry.path, type: entry.type, size: entry.size, sha256: sha256, mode: entry.mode, mtime: entry.mtime,
            target: entry.linkTarget)
    }
}
