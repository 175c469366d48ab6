import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Walks a directory tree from an open root with `openat`, in sorted order (by UTF-8 bytes, so
/// bundles are deterministic). Below the root nothing is followed: directories are opened with
/// `O_DIRECTORY|O_NOFOLLOW`, entries are looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` (but
/// those the directory lists as regular files, which the copy opens with `O_NOFOLLOW` and
/// `fstat`s) and symlinks read with `readlinkat`, so a directory swapped for a symlink mid-walk is refused by
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
        /// `fstatat` of the entry (of a directory: `fstat` of the directory as opened); zero for a
        /// file the directory listed as regular (its copy asks `fstat` on the open descriptor).
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
        let listed = list(directory, prefix: prefix, warn: warn)
        for (name, type) in listed {
            if Task.isCancelled { throw .cancelled }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            if exclude.excludes(path) { continue }
            guard path.utf8.count <= maximumPathBytes else {
                warn(path, "the path is longer than \(maximumPathBytes) bytes; skipped")
                continue
            }
            var info = stat()
            if type == UInt8(DT_REG) {
                // Listed as a regular file: the copy opens it (O_NOFOLLOW) and asks fstat on the
                // open descriptor, which is what counts; a name swapped meanwhile is refused there.
                try visit(Found(kind: .file, relativePath: path, parent: directory, name: name, info: info))
                continue
            }
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

    /// The regular files' bytes below `root` (an open directory), excludes honoured, for the
    /// estimate a backup checks its space with. Cheaper than ``walk(root:visit:warn:)``: names in
    /// directory order (no sorting), no `String` per entry unless there are excludes to match,
    /// `d_type` trusted where the file system gives one. What cannot be read counts as nothing
    /// (the walk of the backup itself warns about it).
    ///
    /// The root's folders are walked on every processor at once (the estimate runs before the
    /// backup starts: nothing else overlaps it).
    func fileBytes(root: Int32) -> Int64 {
        var folders: [(name: String, path: String)] = []
        let rootFiles = fileBytes(directory: root, prefix: "") { folders.append(($0, $1)) }
        let total = Mutex(rootFiles)
        let found = folders
        DispatchQueue.concurrentPerform(iterations: found.count) { index in
            let child = openat(root, found[index].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { return }
            defer { close(child) }
            let bytes = fileBytes(directory: child, prefix: found[index].path)
            total.withLock { $0 += bytes }
        }
        return total.withLock { $0 }
    }

    /// The files' bytes in `directory` and below; with `folder`, its folders are handed there
    /// (name, relative path) instead of walked.
    private func fileBytes(
        directory: Int32, prefix: String, folder: ((String, String) -> Void)? = nil
    ) -> Int64 {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return 0
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var total: Int64 = 0
        while let entry = readdir(stream) {
            if Task.isCancelled { return total }
            let type = entry.pointee.d_type
            total += withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: field.pointee)) {
                    name -> Int64 in
                    if name[0] == 0x2e, name[1] == 0 || (name[1] == 0x2e && name[2] == 0) { return 0 }
                    var path = ""
                    if !exclude.isEmpty {
                        guard let valid = String(validatingCString: name) else { return 0 }
                        path = prefix.isEmpty ? valid : prefix + "/" + valid
                        if exclude.excludes(path) { return 0 }
                    }
                    var kind = type
                    var info = stat()
                    if kind == UInt8(DT_UNKNOWN) || kind == UInt8(DT_REG) {
                        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
                        switch info.st_mode & S_IFMT {
                        case S_IFREG: return Int64(info.st_size)
                        case S_IFDIR: kind = UInt8(DT_DIR)
                        default: return 0
                        }
                    }
                    guard kind == UInt8(DT_DIR) else { return 0 }
                    if let folder {
                        guard let valid = String(validatingCString: name) else { return 0 }
                        folder(valid, path.isEmpty ? valid : path)
                        return 0
                    }
                    let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard child >= 0 else { return 0 }
                    defer { close(child) }
                    return fileBytes(directory: child, prefix: path)
                }
            }
        }
        return total
    }

    /// The names in `directory` (without `.` and `..`) with their `d_type`, sorted by their
    /// UTF-8 bytes.
    private func list(_ directory: Int32, prefix: String, warn: Warn) -> [(name: String, type: UInt8)] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            warn(prefix.isEmpty ? "." : prefix, "its entries cannot be listed: \(errnoDescription()); skipped")
            return []
        }
        defer { closedir(stream) }
        // The copy shares the original's position: start from the first entry.
        rewinddir(stream)
        var names: [(name: String, type: UInt8)] = []
        while let entry = readdir(stream) {
            let name: (valid: String?, lossy: String?) = withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: field.pointee)) {
                    // The lossy form only for the warning about a name that is not UTF-8.
                    if let valid = String(validatingCString: $0) { return (valid, nil) }
                    return (nil, String(cString: $0))
                }
            }
            guard let valid = name.valid else {
                warn((prefix.isEmpty ? "" : prefix + "/") + (name.lossy ?? ""), "its name is not UTF-8; skipped")
                continue
            }
            if valid == "." || valid == ".." { continue }
            names.append((valid, entry.pointee.d_type))
        }
        return names.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
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
