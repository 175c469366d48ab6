import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes what a ``DirectoryWalker`` finds into a bundle under one prefix (`files/<name>`), and
/// keeps the warnings for the manifest.
///
/// A regular file is read through a descriptor opened with `O_NOFOLLOW`: its size and mtime
/// from `fstat` go into the header, exactly that many bytes follow (a file that shrinks is
/// padded with zeros), and `fstat` is asked again at the end. A file whose size or mtime changed
/// meanwhile, or that failed mid-read, is written a second time as a later tar entry of the same
/// path (tar keeps the last copy; the manifest lists the path once, with that copy's hash); if
/// the second copy changed too, it is kept with a warning.
struct TreeBundler {
    let sink: BundleEntrySink
    /// `files/<name>`: the root's entry; everything else is below it.
    let prefix: String
    private(set) var warnings: [String] = []
    /// Bytes of file data written so far (both copies of a re-read file).
    private(set) var written: Int64 = 0

    init(sink: BundleEntrySink, prefix: String) {
        self.sink = sink
        self.prefix = prefix
    }

    /// How one read of a file went.
    private enum Copy {
        /// Read whole, unchanged from open to end.
        case steady
        /// Written, but its size or mtime changed meanwhile, or a read failed (the rest zeros).
        case changed(reason: String?)
        /// Not opened; nothing written.
        case unopened(reason: String)
    }

    /// Writes one found entry (a file: once, or twice when it changed while read).
    mutating func add(_ found: DirectoryWalker.Found, progress: (Int64) -> Void) throws(BackupError) {
        let path = prefix + "/" + found.relativePath
        switch found.kind {
        case .directory:
            try sink.addDirectory(path, mode: Self.mode(found.info), mtime: Self.seconds(found.info.st_mtim))
        case .symlink(let target):
            try sink.addSymlink(path, target: target, mtime: Self.seconds(found.info.st_mtim))
        case .file:
            switch try copy(found, as: path, superseding: false, progress: progress) {
            case .steady: break
            case .unopened(let reason): warn(path, reason)
            case .changed:
                switch try copy(found, as: path, superseding: true, progress: progress) {
                case .steady: break
                case .changed(let reason):
                    warn(
                        path,
                        reason.map { "it could not be read whole (\($0)); the copy may be inconsistent" }
                            ?? "changed while it was read; the copy may be inconsistent")
                case .unopened(let reason):
                    warn(
                        path,
                        "changed while it was read and could not be read again (\(reason)); the copy may be inconsistent"
                    )
                }
            }
        }
    }

    /// Records a warning about `relativePath` (below the prefix).
    mutating func warn(relativePath: String, _ reason: String) {
        warn(prefix + "/" + relativePath, reason)
    }

    private mutating func warn(_ path: String, _ reason: String) {
        warnings.append("\(path): \(reason)")
    }

    private mutating func copy(
        _ found: DirectoryWalker.Found, as path: String, superseding: Bool, progress: (Int64) -> Void
    ) throws(BackupError) -> Copy {
        // O_NONBLOCK: should the name have become a FIFO since it was listed, open does not hang.
        let file = openat(found.parent, found.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard file >= 0 else { return .unopened(reason: DirectoryWalker.unreadable(errno)) }
        defer { close(file) }
        var before = stat()
        guard fstat(file, &before) == 0 else { return .unopened(reason: DirectoryWalker.unreadable(errno)) }
        guard before.st_mode & S_IFMT == S_IFREG else {
            return .unopened(reason: "it is no longer a regular file; skipped")
        }
        let size = Int64(before.st_size)
        var failure: String?
        let base = written
        try sink.addFile(
            size: size, as: path, mode: Self.mode(before), mtime: Self.seconds(before.st_mtim),
            superseding: superseding,
            progress: { progress(base + $0) }
        ) { (buffer, offset) throws(BackupError) in
            var filled = 0
            while failure == nil, filled < buffer.count {
                let count = pread(
                    file, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset) + off_t(filled))
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errnoDescription()
                } else if count == 0 {
                    break
                } else {
                    filled += count
                }
            }
            // The header announced `size` bytes: a file that shrank (or failed) is padded.
            if filled < buffer.count {
                (buffer.baseAddress! + filled).initializeMemory(
                    as: UInt8.self, repeating: 0, count: buffer.count - filled)
            }
            return buffer.count
        }
        written += size
        var after = stat()
        guard failure == nil, fstat(file, &after) == 0 else { return .changed(reason: failure ?? errnoDescription()) }
        let same =
            after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec
            && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec
        return same ? .steady : .changed(reason: nil)
    }

    /// Permission bits as recorded (setuid and setgid included; a restore drops them).
    static func mode(_ info: stat) -> Int {
        Int(info.st_mode & 0o7777)
    }

    /// Whole seconds, within what a ustar header holds (0 … 8^11 - 1).
    static func seconds(_ time: timespec) -> Int64 {
        min(max(0, Int64(time.tv_sec)), 0o77777777777)
    }
}
