import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A directory tree beside the database (uploads, attachments), written as `files/<name>` (the
/// root, a directory entry) and every directory, regular file and symlink below it as
/// `files/<name>/<relative path>`, in sorted order.
///
/// Every directory is listed, so its mode and mtime come back; files carry their mode, mtime,
/// size and SHA-256; symlinks their target, never followed; hard links are stored as separate
/// files. Sockets, FIFOs, devices and whatever cannot be read are skipped with a warning in the
/// manifest (``DirectoryFigures/warnings``). The root itself may be reached through a symlink
/// (the operator named it); nothing below it is followed (see ``DirectoryWalker``).
///
/// Writing blocks (it runs on the bundle writer's thread, as the SQLite source's does); memory
/// stays constant in the tree's size apart from the manifest's list of entries.
struct DirectorySource: BackupSource {
    static let kind = SourceKind.directory
    /// The archive's folder that holds every directory source.
    static let entryRoot = "files"

    /// Unique within the bundle: the directory's base name, made unique (`uploads-2`).
    var name: String
    /// The directory as configured (absolute).
    var root: URL
    var exclude: [ExcludeGlob]

    /// - Parameters:
    ///   - root: the directory, absolute.
    ///   - name: its name in the bundle (see ``sources(for:exclude:)``).
    ///   - exclude: the settings' `exclude` globs (see ``ExcludeGlob``).
    init(root: URL, name: String, exclude: [String]) {
        self.root = root
        self.name = name
        self.exclude = exclude.map(ExcludeGlob.init)
    }

    /// One source per configured directory, in the order given, each named after its base name
    /// made unique within the bundle: `/a/uploads`, `/b/uploads` → `uploads`, `uploads-2`. The
    /// SQLite source's name is taken whatever the scope (`/srv/database` → `database-2`), so a
    /// directory keeps its name from one scope to the other.
    static func sources(for paths: [String], exclude: [String]) -> [DirectorySource] {
        var used: Set<String> = [SQLiteSource.defaultName]
        return paths.map { path in
            let root = URL(fileURLWithPath: path)
            let base = root.lastPathComponent.isEmpty || root.lastPathComponent == "/" ? "root" : root.lastPathComponent
            var name = base
            var number = 2
            while used.contains(name) {
                name = "\(base)-\(number)"
                number += 1
            }
            used.insert(name)
            return DirectorySource(root: root, name: name, exclude: exclude)
        }
    }

    /// The root's entry: `files/<name>`.
    var entryPrefix: String { Self.entryRoot + "/" + name }

    /// Whether a later tar entry may repeat `path` and replace the earlier one: only a regular
    /// file under `files/` written again because it changed while it was read. The writer, the
    /// verifier and the extractor all ask here.
    static func mayRepeat(_ path: String, earlier: TarEntryType, later: TarEntryType) -> Bool {
        path.hasPrefix(entryRoot + "/") && earlier == .file && later == .file
    }

    /// The regular files' bytes (one `fstatat` walk, excludes honoured); 0 when the directory
    /// cannot be opened (the backup then fails with that reason).
    func estimatedBytes() -> Int64 {
        guard let directory = try? openRoot() else { return 0 }
        defer { close(directory) }
        var total: Int64 = 0
        try? DirectoryWalker(exclude: exclude, maximumPathBytes: maximumRelativeBytes).walk(root: directory) {
            found throws(BackupError) in
            if found.kind == .file { total += Int64(found.info.st_size) }
        } warn: { _, _ in
        }
        return total
    }

    func write(into sink: BundleEntrySink, progress: (Int64) -> Void) throws(BackupError) -> Manifest.Source {
        let directory = try openRoot()
        defer { close(directory) }
        var info = stat()
        guard fstat(directory, &info) == 0 else {
            throw .sourceUnavailable(path: root.path, reason: errnoDescription())
        }
        try sink.addDirectory(entryPrefix, mode: TreeBundler.mode(info), mtime: TreeBundler.seconds(info.st_mtim))
        var bundler = TreeBundler(sink: sink, prefix: entryPrefix)
        try DirectoryWalker(exclude: exclude, maximumPathBytes: maximumRelativeBytes).walk(root: directory) {
            found throws(BackupError) in
            try bundler.add(found, progress: progress)
        } warn: { path, reason in
            bundler.warn(relativePath: path, reason)
        }
        return Manifest.Source(
            kind: .directory, name: name, directory: DirectoryFigures(path: root.path, warnings: bundler.warnings))
    }

    static func reader(extractingTo workspace: SourceWorkspace) -> any SourceEntryReader {
        Reader()
    }

    /// A relative path's longest length: the bundle's limit less `files/<name>/`.
    private var maximumRelativeBytes: Int {
        TarReader.maximumNameBytes - entryPrefix.utf8.count - 1
    }

    private func openRoot() throws(BackupError) -> Int32 {
        let directory = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            throw .sourceUnavailable(path: root.path, reason: "cannot open the directory: \(errnoDescription())")
        }
        return directory
    }
}
