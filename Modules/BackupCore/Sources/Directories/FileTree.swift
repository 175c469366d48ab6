import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-tree operations a directory restore needs: removing a tree without ever following a
/// symlink out of it, and flushing a file system.
enum FileTree {
    /// Removes the file, symlink or directory tree at `url`; nothing there is not an error.
    /// Symlinks are removed, never followed; a directory the process may not write into (mode
    /// 0555) is made writable first, so a restored read-only tree can still be removed.
    static func remove(_ url: URL) throws(BackupError) {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .io(path: url.path, reason: "cannot read: \(errnoDescription())")
        }
        let parent = url.deletingLastPathComponent().path
        let parentDescriptor = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentDescriptor >= 0 else {
            throw .io(path: parent, reason: "cannot open: \(errnoDescription())")
        }
        defer { _ = close(parentDescriptor) }
        try removeEntry(url.lastPathComponent, in: parentDescriptor, path: url.path)
    }

    /// Removes `name` in the directory `parent` (recursively when it is a directory).
    private static func removeEntry(_ name: String, in parent: Int32, path: String) throws(BackupError) {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else {
            throw .io(path: path, reason: "cannot delete: \(errnoDescription())")
        }
        let descriptor = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return }
            throw .io(path: path, reason: "cannot open: \(errnoDescription())")
        }
        // `fdopendir` takes the descriptor over; `closedir` closes it.
        guard let stream = fdopendir(descriptor) else {
            _ = close(descriptor)
            throw .io(path: path, reason: "cannot list: \(errnoDescription())")
        }
        defer { closedir(stream) }
        _ = fchmod(descriptor, 0o700)
        var names: [String] = []
        while let item = readdir(stream) {
            let child = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if child != ".", child != ".." { names.append(child) }
        }
        for child in names {
            try removeEntry(child, in: descriptor, path: path + "/" + child)
        }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw .io(path: path, reason: "cannot delete: \(errnoDescription())")
        }
    }

    /// Flushes everything written to the file system holding `url` (`syncfs`): one call for a
    /// whole extracted tree instead of an `fsync` per file.
    static func syncFileSystem(of url: URL) throws(BackupError) {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: url.path, reason: "cannot open: \(errnoDescription())") }
        defer { _ = close(descriptor) }
        guard let syncfs = Linux.syncfs else {
            sync()
            return
        }
        guard syncfs(descriptor) == 0 else { throw .io(path: url.path, reason: "syncfs failed: \(errnoDescription())") }
    }

    /// Renames `source` to `destination` unless something is at `destination` already
    /// (`renameat2(RENAME_NOREPLACE)`): a plain rename would silently replace an empty directory.
    static func renameNoReplace(_ source: URL, to destination: URL) throws(BackupError) {
        if let renameat2 = Linux.renameat2 {
            if renameat2(AT_FDCWD, source.path, AT_FDCWD, destination.path, Linux.renameNoReplace) == 0 { return }
            if errno == EEXIST { throw .pathInTheWay(path: destination.path) }
            // A file system without the flag answers EINVAL: check, then rename (we hold the job lock).
            guard errno == EINVAL || errno == ENOSYS else {
                throw .io(path: destination.path, reason: "rename from \(source.path) failed: \(errnoDescription())")
            }
        }
        if FileOps.exists(destination) { throw .pathInTheWay(path: destination.path) }
        try FileOps.rename(source, to: destination)
    }

    /// glibc functions Swift's Glibc module leaves out (they are declared only with
    /// `_GNU_SOURCE`), looked up once in the already loaded C library.
    private enum Linux {
        typealias Renameat2 =
            @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
        typealias Syncfs = @convention(c) (Int32) -> Int32

        static let renameNoReplace: UInt32 = 1
        static let renameat2 = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2").map {
            unsafeBitCast($0, to: Renameat2.self)
        }
        static let syncfs = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs").map {
            unsafeBitCast($0, to: Syncfs.self)
        }
    }
}
