import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Extracts one directory source's entries (`files/<name>` and everything below it) into a new
/// staging directory, and never writes anywhere else.
///
/// Every name is checked again here (no `..`, no absolute path, no empty or `.` component),
/// everything is created relative to descriptors opened with `O_NOFOLLOW` (`mkdirat`,
/// `openat(O_CREAT|O_EXCL|O_NOFOLLOW)`, `symlinkat`), so a symlink the bundle creates is never
/// followed, and an entry below one is refused. Hard links, devices and FIFOs never get here
/// (``TarReader`` refuses them). A path may come twice only when both entries are regular files
/// (a file re-read because it changed while it was backed up): the later copy replaces the
/// earlier. Modes (without setuid and setgid) and mtimes are applied after the content,
/// directories' last and deepest first, so a read-only directory still receives its files.
///
/// What was extracted is compared with the manifest's entries for the source in ``finish()``:
/// every entry listed, none more, each with the listed type, size, SHA-256, mode, mtime and
/// target. Blocking; runs on the job's thread.
final class TreeExtractor {
    /// Where every directory source's entries live in a bundle: `files/`.
    static let filesPrefix = DirectorySource.entryRoot + "/"
    /// The staging directory the tree is extracted into (created here, must not exist).
    let staging: URL
    /// The root entry's path, `files/<name>`.
    let root: String
    private let rootDescriptor: Int32
    private let expected: [String: Manifest.Entry]
    private var extracted: [String: Manifest.Entry] = [:]
    /// Directories made so far (paths relative to the root), with their entries, in order.
    private var directories: [String: Manifest.Entry] = [:]
    /// The last parent directory opened, kept for the next entry (entries come sorted).
    private var cachedParent: (path: String, descriptor: Int32)?
    private let chunkSize: Int

    /// Creates `staging` (mode 0700; it must not exist).
    ///
    /// - Parameters:
    ///   - sourceName: the source's name in the bundle (`uploads`): its entries are `files/uploads/…`.
    ///   - expected: the manifest's entries for this source.
    init(
        staging: URL, sourceName: String, expected: [Manifest.Entry], chunkSize: Int = 256 * 1024
    ) throws(BackupError) {
        self.staging = staging
        self.root = Self.filesPrefix + sourceName
        self.chunkSize = chunkSize
        var listed: [String: Manifest.Entry] = [:]
        for entry in expected { listed[entry.path] = entry }
        self.expected = listed
        guard mkdir(staging.path, 0o700) == 0 else {
            if errno == EEXIST { throw .pathInTheWay(path: staging.path) }
            throw .io(path: staging.path, reason: "cannot create the staging directory: \(errnoDescription())")
        }
        rootDescriptor = open(staging.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootDescriptor >= 0 else {
            throw .io(path: staging.path, reason: "cannot open the staging directory: \(errnoDescription())")
        }
    }

    deinit {
        closeCachedParent()
        _ = Glibc.close(rootDescriptor)
    }

    /// Whether `entry` belongs to this source (its root or below it).
    func claims(_ entry: TarEntry) -> Bool {
        entry.path == root || entry.path.hasPrefix(root + "/")
    }

    /// Extracts one entry, reading a file's data from `tar`. `onChunk` runs after each piece of data.
    func extract(_ entry: TarEntry, from tar: inout TarReader, onChunk: () -> Void = {}) throws(BackupError) {
        if Task.isCancelled { throw .cancelled }
        let relative = try Self.relativePath(of: entry.path, under: root)
        guard let listed = expected[entry.path] else {
            throw refusal(entry, "is not listed in the manifest")
        }
        guard listed.type == entry.type else {
            throw refusal(entry, "is a \(entry.type.rawValue), the manifest says \(listed.type.rawValue)")
        }
        if let earlier = extracted[entry.path],
            !DirectorySource.mayRepeat(entry.path, earlier: earlier.type, later: entry.type)
        {
            throw refusal(entry, "appears twice")
        }
        guard let relative else {
            guard entry.type == .directory else { throw refusal(entry, "is the source's root but not a directory") }
            extracted[entry.path] = Self.listed(entry, sha256: nil)
            return
        }
        guard extracted[root] != nil else { throw refusal(entry, "comes before the source's root") }
        let (parent, name) = Self.split(relative)
        let parentDescriptor = try openParent(parent, for: entry)
        switch entry.type {
        case .directory:
            guard mkdirat(parentDescriptor, name, 0o700) == 0 else {
                throw failure(entry, "cannot create the directory")
            }
            directories[relative] = Self.listed(entry, sha256: nil)
            extracted[entry.path] = Self.listed(entry, sha256: nil)
        case .symlink:
            guard let target = entry.linkTarget, !target.isEmpty else { throw refusal(entry, "has no target") }
            guard symlinkat(target, parentDescriptor, name) == 0 else {
                throw failure(entry, "cannot create the symlink")
            }
            var times = Self.times(mtime: entry.mtime)
            _ = utimensat(parentDescriptor, name, &times, AT_SYMLINK_NOFOLLOW)
            extracted[entry.path] = Self.listed(entry, sha256: nil)
        case .file:
            if extracted[entry.path] != nil, unlinkat(parentDescriptor, name, 0) != 0 {
                throw failure(entry, "cannot replace the earlier copy")
            }
            let sha256 = try writeFile(entry, named: name, in: parentDescriptor, from: &tar, onChunk: onChunk)
            extracted[entry.path] = Self.listed(entry, sha256: sha256)
        }
    }

    /// Applies the directories' modes and mtimes (deepest first, the root last), flushes
    /// nothing yet (see ``FileTree/syncFileSystem(of:)``) and compares what was extracted with
    /// the manifest. Returns every difference; empty when the tree is exactly the manifest's.
    func finish() throws(BackupError) -> [String] {
        closeCachedParent()
        for (relative, entry) in directories.sorted(by: { Self.depth($0.key) > Self.depth($1.key) }) {
            let descriptor = try openDirectory(relative, for: TarEntry(path: entry.path, type: .directory))
            defer { _ = Glibc.close(descriptor) }
            try apply(entry, to: descriptor)
        }
        if let rootEntry = extracted[root] { try apply(rootEntry, to: rootDescriptor) }
        var problems: [String] = []
        for (path, listed) in expected.sorted(by: { $0.key < $1.key }) {
            guard let actual = extracted[path] else {
                problems.append("entry \(path) is listed in the manifest but missing from the bundle")
                continue
            }
            if let difference = Self.difference(listed: listed, actual: actual) { problems.append(difference) }
        }
        return problems
    }

    // MARK: - Files

    private func writeFile(
        _ entry: TarEntry, named name: String, in parent: Int32, from tar: inout TarReader, onChunk: () -> Void
    ) throws(BackupError) -> String {
        let descriptor = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(entry, "cannot create the file") }
        defer { _ = Glibc.close(descriptor) }
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if Task.isCancelled { throw .cancelled }
            let count = try tar.readEntry(into: buffer)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            var offset = 0
            while offset < count {
                let written = Glibc.write(descriptor, chunk.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == ENOSPC || errno == EDQUOT {
                        let available = (try? FileOps.availableBytes(at: staging)) ?? 0
                        throw .insufficientSpace(needed: entry.size, available: available)
                    }
                    throw failure(entry, "cannot write the file")
                }
                offset += written
            }
            onChunk()
        }
        try apply(Self.listed(entry, sha256: nil), to: descriptor)
        return hash.finalize().hexString
    }

    /// Sets a file's or directory's permission bits (never setuid or setgid) and mtime.
    private func apply(_ entry: Manifest.Entry, to descriptor: Int32) throws(BackupError) {
        guard fchmod(descriptor, mode_t((entry.mode ?? 0o755) & 0o1777)) == 0 else {
            throw .io(path: entry.path, reason: "cannot set the mode: \(errnoDescription())")
        }
        var times = Self.times(mtime: entry.mtime ?? 0)
        guard futimens(descriptor, &times) == 0 else {
            throw .io(path: entry.path, reason: "cannot set the mtime: \(errnoDescription())")
        }
    }

    // MARK: - Directories

    /// The descriptor of `parent` (relative to the root; "" is the root), which must be a
    /// directory this extraction made.
    private func openParent(_ parent: String, for entry: TarEntry) throws(BackupError) -> Int32 {
        if parent.isEmpty { return rootDescriptor }
        if let cachedParent, cachedParent.path == parent { return cachedParent.descriptor }
        guard directories[parent] != nil else {
            let through = root + "/" + parent
            if extracted[through] != nil { throw refusal(entry, "goes through \(through), which is no directory") }
            throw refusal(entry, "comes before its directory \(through)")
        }
        closeCachedParent()
        let descriptor = try openDirectory(parent, for: entry)
        cachedParent = (parent, descriptor)
        return descriptor
    }

    /// Opens `relative` one component at a time from the root, never following a symlink.
    private func openDirectory(_ relative: String, for entry: TarEntry) throws(BackupError) -> Int32 {
        var current = rootDescriptor
        for component in relative.split(separator: "/") {
            let next = openat(current, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if current != rootDescriptor { _ = Glibc.close(current) }
            guard next >= 0 else { throw failure(entry, "cannot open its directory") }
            current = next
        }
        return current
    }

    private func closeCachedParent() {
        if let cachedParent { _ = Glibc.close(cachedParent.descriptor) }
        cachedParent = nil
    }

    // MARK: - Names

    /// The path below `root` (nil for the root itself), after checking every component.
    static func relativePath(of path: String, under root: String) throws(BackupError) -> String? {
        try TarReader.checkPath(path)
        if path == root { return nil }
        guard path.hasPrefix(root + "/") else {
            throw .verificationFailed(reason: "tar entry \(path.debugDescription) is not under \(root)")
        }
        let relative = String(path.dropFirst(root.count + 1))
        for component in relative.split(separator: "/", omittingEmptySubsequences: false) {
            guard !component.isEmpty, component != ".", component != "..", !component.utf8.contains(0) else {
                throw .verificationFailed(reason: "tar entry \(path.debugDescription) has an unsafe component")
            }
        }
        return relative
    }

    private static func split(_ relative: String) -> (parent: String, name: String) {
        guard let slash = relative.lastIndex(of: "/") else { return ("", relative) }
        return (String(relative[..<slash]), String(relative[relative.index(after: slash)...]))
    }

    private static func depth(_ relative: String) -> Int {
        relative.utf8.reduce(1) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
    }

    private static func times(mtime: Int64) -> [timespec] {
        // The access time is left as it is (`UTIME_OMIT`, which Swift does not import).
        [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
    }

    private static func listed(_ entry: TarEntry, sha256: String?) -> Manifest.Entry {
        Manifest.Entry(
            path: entry.path, type: entry.type, size: entry.type == .file ? entry.size : 0, sha256: sha256,
            mode: entry.mode, mtime: entry.mtime, target: entry.linkTarget)
    }

    /// The first field in which `actual` differs from `listed`, as a sentence.
    private static func difference(listed: Manifest.Entry, actual: Manifest.Entry) -> String? {
        let path = listed.path
        if actual.type != listed.type {
            return "entry \(path) is a \(actual.type.rawValue), the manifest says \(listed.type.rawValue)"
        }
        if actual.size != listed.size {
            return "entry \(path) has \(actual.size) bytes, the manifest says \(listed.size)"
        }
        if actual.sha256 != listed.sha256 {
            return "entry \(path) SHA-256 is \(actual.sha256 ?? "none"), the manifest says \(listed.sha256 ?? "none")"
        }
        if let mode = listed.mode, mode != actual.mode {
            return
                "entry \(path) has mode \(String(actual.mode ?? 0, radix: 8)), the manifest says \(String(mode, radix: 8))"
        }
        if let mtime = listed.mtime, mtime != actual.mtime {
            return "entry \(path) has mtime \(actual.mtime ?? 0), the manifest says \(mtime)"
        }
        if actual.target != listed.target {
            return
                "symlink \(path) points at \(actual.target ?? "nothing"), the manifest says \(listed.target ?? "nothing")"
        }
        return nil
    }

    private func refusal(_ entry: TarEntry, _ what: String) -> BackupError {
        .verificationFailed(reason: "tar entry \(entry.path.debugDescription) \(what)")
    }

    private func failure(_ entry: TarEntry, _ what: String) -> BackupError {
        let code = errno
        if code == EEXIST { return refusal(entry, "appears twice") }
        if code == ELOOP || code == ENOTDIR { return refusal(entry, "goes through a symlink or a file") }
        if code == ENOSPC || code == EDQUOT {
            let available = (try? FileOps.availableBytes(at: staging)) ?? 0
            return .insufficientSpace(needed: entry.size, available: available)
        }
        return .io(path: entry.path, reason: "\(what): \(String(cString: strerror(code)))")
    }
}
