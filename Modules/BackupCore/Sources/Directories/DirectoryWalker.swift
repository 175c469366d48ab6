import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Walks a directory tree from an open root with `openat`, in sorted order (by UTF-8 bytes, so
/// bundles are deterministic). Below the root nothing is followed: directories are opened with
/// `O_DIRECTORY|O_NOFOLLOW`, entries are looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` and
/// symlinks read with `readlinkat`, so a directory swapped for a symlink mid-walk is refused by
/// the kernel rather than followed.
///
/// Excluded paths are passed over (an excluded directory is not descended into). What cannot be
/// taken (a socket, a FIFO, a device, a name that is not UTF-8, something unreadable or gone) is
/// reported through `warn`, never skipped silently. Memory: the names of the directories on the
/// current path, one open descriptor per level.
struct DirectoryWalker {
    /// One thing found below the root.
    struct Found {
        enum Kind: Equatable {
            case directory
            case file
            case symlink(target: String)
        }

        var kind: Kind
        /// The path relative to the root, `/`-separated (`a/b.txt`).
        var relativePath: String
        /// The open directory that holds it; valid only during the visit.
        var parent: Int32
        /// Its name in `parent`.
        var name: String
        /// `fstatat` of the entry (of a directory: `fstat` of the directory as opened).
        var info: stat
    }

    /// Takes a found entry; a directory is visited before what it holds.
    typealias Visit = (Found) throws(BackupError) -> Void
    /// Takes a relative path and why it was skipped.
    typealias Warn = (String, String) -> Void

    var exclude: [ExcludeGlob] = []
    /// Relative paths longer than this are skipped with a warning (a bundle's names stop at
    /// `TarReader.maximumNameBytes`, prefix included).
    var maximumPathBytes = TarReader.maximumNameBytes

    /// Walks everything below `root` (an open directory, not visited itself).
    func walk(root: Int32, visit: Visit, warn: Warn) throws(BackupError) {
        try walk(directory: root, prefix: "", visit: visit, warn: warn)
    }

    private func walk(directory: Int32, prefix: String, visit: Visit, warn: Warn) throws(BackupError) {
        let names = list(directory, prefix: prefix, warn: warn)
        for name in names {
            if Task.isCancelled { throw .cancelled }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            if exclude.excludes(path) { continue }
            guard path.utf8.count <= maximumPathBytes else {
                warn(path, "the path is longer than \(maximumPathBytes) bytes; skipped")
                continue
            }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                warn(path, Self.unreadable(errno))
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    warn(path, Self.unreadable(errno))
                    continue
                }
                defer { close(child) }
                guard fstat(child, &info) == 0 else {
                    warn(path, Self.unreadable(errno))
                    continue
                }
                try visit(Found(kind: .directory, relativePath: path, parent: directory, name: name, info: info))
                try walk(directory: child, prefix: path, visit: visit, warn: warn)
            case S_IFREG:
                try visit(Found(kind: .file, relativePath: path, parent: directory, name: name, info: info))
            case S_IFLNK:
                guard let target = Self.readLink(name, in: directory) else {
                    warn(path, errno == 0 ? "its symlink target is not UTF-8; skipped" : Self.unreadable(errno))
                    continue
                }
                try visit(
                    Found(kind: .symlink(target: target), relativePath: path, parent: directory, name: name, info: info)
                )
            case S_IFIFO: warn(path, "it is a FIFO; skipped")
            case S_IFSOCK: warn(path, "it is a socket; skipped")
            case S_IFCHR, S_IFBLK: warn(path, "it is a device; skipped")
            default: warn(path, "it is of an unknown file type; skipped")
            }
        }
    }

    /// The names in `directory` (without `.` and `..`), sorted by their UTF-8 bytes.
    private func list(_ directory: Int32, prefix: String, warn: Warn) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            warn(prefix.isEmpty ? "." : prefix, "its entries cannot be listed: \(errnoDescription()); skipped")
            return []
        }
        defer { closedir(stream) }
        // The copy shares the original's position: start from the first entry.
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: field.pointee)) {
                    (String(validatingCString: $0), String(cString: $0))
                }
            }
            guard let valid = name.0 else {
                let shown = (prefix.isEmpty ? "" : prefix + "/") + name.1
                warn(shown, "its name is not UTF-8; skipped")
                continue
            }
            if valid == "." || valid == ".." { continue }
            names.append(valid)
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// A symlink's target; nil with `errno` set when it cannot be read, nil with `errno` 0 when
    /// it is not UTF-8.
    private static func readLink(_ name: String, in directory: Int32) -> String? {
        let capacity = TarReader.maximumNameBytes
        var buffer = [CChar](repeating: 0, count: capacity + 1)
        let count = readlinkat(directory, name, &buffer, capacity)
        guard count >= 0 else { return nil }
        guard count < capacity else {
            errno = ENAMETOOLONG
            return nil
        }
        buffer[count] = 0
        errno = 0
        return buffer.withUnsafeBufferPointer { String(validatingCString: $0.baseAddress!) }
    }

    /// Why an entry could not be taken, from `errno`.
    static func unreadable(_ code: Int32) -> String {
        switch code {
        case ENOENT: "it vanished while the directory was read; skipped"
        case ELOOP: "it was replaced by a symlink while the directory was read; skipped"
        case EACCES, EPERM: "permission denied; skipped"
        default: "it cannot be read: \(String(cString: strerror(code))); skipped"
        }
    }
}
