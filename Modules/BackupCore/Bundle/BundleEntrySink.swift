import Crypto
import Foundation

/// Where sources write their entries: tar framing over the codec's stream (a bundle), or, entry by
/// entry, to a ``BundleEntryConsumer`` (the incremental repository's writer); either way each file
/// is hashed as it passes for the manifest. Entries are listed in the order written; a path is
/// written once, except that a regular file under `files/` may be written once more (a file that
/// changed while it was read): tar keeps the later copy, and so does the list, in the first copy's
/// place (a consumer is told the later copy supersedes the earlier).
final class BundleEntrySink {
    /// Takes framed bytes (the codec's input).
    typealias Output = (UnsafeRawBufferPointer) throws(BackupError) -> Void

    /// Where the entries go.
    private enum Destination {
        /// Tar framing: headers, data, padding, the end of the archive.
        case tar(Output)
        /// Entries as such: no framing.
        case consumer(any BundleEntryConsumer)
    }

    /// The bundle's creation time, the mtime of entries that have none of their own.
    let bundleTime: Int64
    /// Every entry written so far, as the manifest lists them.
    private(set) var entries: [Manifest.Entry] = []
    private let destination: Destination
    private let chunkSize: Int
    /// Each path written, with its place in ``entries``.
    private var paths: [String: Int] = [:]
    /// Paths written a second time (once is the most).
    private var superseded: Set<String> = []
    /// Where the entry being written goes in ``entries``: its end, or the copy it supersedes.
    private var place = 0
    /// Header blocks being framed; kept between entries so a header allocates nothing.
    private var header: [UInt8] = []
    /// File data being streamed; kept between files (at most `chunkSize` bytes), so a bundle of
    /// many small files does not allocate a buffer per file.
    private var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// A sink framing the entries as tar into `output`.
    init(bundleTime: Date, chunkSize: Int = 256 * 1024, output: @escaping Output) {
        self.bundleTime = Int64(max(0, bundleTime.timeIntervalSince1970))
        self.chunkSize = chunkSize
        self.destination = .tar(output)
        header.reserveCapacity(3 * Tar.blockSize)
    }

    /// A sink handing the entries to `consumer`, unframed; ``finish(manifest:)`` is not for it.
    init(bundleTime: Date, chunkSize: Int = 256 * 1024, consumer: any BundleEntryConsumer) {
        self.bundleTime = Int64(max(0, bundleTime.timeIntervalSince1970))
        self.chunkSize = chunkSize
        self.destination = .consumer(consumer)
    }

    deinit {
        buffer.deallocate()
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
        // Small files are the many: the buffer grows to the largest chunk needed so far.
        let needed = Int(min(Int64(chunkSize), max(size, 1)))
        if buffer.count < needed {
            buffer.deallocate()
            buffer = .allocate(byteCount: needed, alignment: 16)
        }
        let buffer = buffer
        var total: Int64 = 0
        while total < size {
            if Task.isCancelled { throw .cancelled }
            let wanted = Int(min(Int64(chunkSize), size - total))
            let count = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), total)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try deliver(chunk)
            total += Int64(count)
            progress(total)
        }
        guard total == size else {
            throw .io(path: path, reason: "the file shrank while bundling (\(size) → \(total) bytes)")
        }
        try pad(size)
        try list(Self.listed(entry, sha256: hash.finalize().hexString))
    }

    /// Writes `bytes` as the regular file `path`.
    func addBytes(_ bytes: [UInt8], as path: String, mode: Int = 0o644, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, size: Int64(bytes.count), mode: mode, mtime: mtime ?? bundleTime)
        try begin(entry)
        try write(bytes)
        try pad(entry.size)
        try list(Self.listed(entry, sha256: SHA256.hash(data: bytes).hexString))
    }

    /// Writes the directory `path`.
    func addDirectory(_ path: String, mode: Int = 0o755, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, type: .directory, mode: mode, mtime: mtime ?? bundleTime)
        try begin(entry)
        try list(Self.listed(entry, sha256: nil))
    }

    /// Writes the symlink `path` pointing at `target`.
    func addSymlink(_ path: String, target: String, mtime: Int64? = nil) throws(BackupError) {
        let entry = TarEntry(path: path, type: .symlink, mode: 0o777, mtime: mtime ?? bundleTime, linkTarget: target)
        try begin(entry)
        try list(Self.listed(entry, sha256: nil))
    }

    /// Writes `manifest.json` (which lists every other entry, so it is not listed itself) and
    /// the end of the archive. Tar only: a consumer's writer stores the manifest its own way.
    func finish(manifest bytes: [UInt8]) throws(BackupError) {
        guard case .tar = destination else {
            throw .io(path: Manifest.entryName, reason: "an entry consumer keeps the manifest itself")
        }
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
        if superseding {
            guard let index = paths[entry.path] else {
                throw .io(path: entry.path, reason: "supersedes nothing in the bundle")
            }
            guard !superseded.contains(entry.path),
                DirectorySource.mayRepeat(entry.path, earlier: entries[index].type, later: entry.type)
            else {
                throw .io(path: entry.path, reason: "written twice into one bundle")
            }
            place = index
        } else {
            // One hash of the path per entry: the insert is the lookup.
            place = entries.count
            if let earlier = paths.updateValue(place, forKey: entry.path) {
                paths[entry.path] = earlier
                throw .io(path: entry.path, reason: "written twice into one bundle")
            }
        }
        switch destination {
        case .tar:
            header.removeAll(keepingCapacity: true)
            Tar.appendHeader(for: entry, to: &header)
            try write(header)
        case .consumer(let consumer):
            try consumer.begin(entry, superseding: superseding)
        }
    }

    /// Lists a written entry: appended, or in the place of the copy it supersedes; a consumer
    /// hears that it is complete.
    private func list(_ entry: Manifest.Entry) throws(BackupError) {
        if place < entries.count {
            entries[place] = entry
            superseded.insert(entry.path)
        } else {
            entries.append(entry)
        }
        if case .consumer(let consumer) = destination { try consumer.end(entry) }
    }

    private func pad(_ size: Int64) throws(BackupError) {
        guard case .tar = destination else { return }
        let count = Tar.padding(for: size)
        if count > 0 { try write(Self.zeros, count: count) }
    }

    /// Passes a piece of the current entry's data on: into the tar stream, or to the consumer.
    private func deliver(_ piece: UnsafeRawBufferPointer) throws(BackupError) {
        switch destination {
        case .tar(let output): try output(piece)
        case .consumer(let consumer): try consumer.data(piece)
        }
    }

    /// One block of zeros, the padding's source.
    private static let zeros = [UInt8](repeating: 0, count: Tar.blockSize)

    private func write(_ bytes: [UInt8], count: Int? = nil) throws(BackupError) {
        // `withUnsafeBytes` rethrows untyped errors; carry the typed one out by hand.
        var failure: BackupError?
        bytes.withUnsafeBytes { buffer in
            let part = UnsafeRawBufferPointer(rebasing: buffer[0..<(count ?? buffer.count)])
            do throws(BackupError) { try deliver(part) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private static func listed(_ entry: TarEntry, sha256: String?) -> Manifest.Entry {
        Manifest.Entry(
            path: entry.path, type: entry.type, size: entry.size, sha256: sha256, mode: entry.mode, mtime: entry.mtime,
            target: entry.linkTarget)
    }
}
