import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small durable-file helpers around POSIX calls.
enum FileOps {
    /// Flushes a directory's entries (after a rename or unlink) to disk.
    static func fsyncDirectory(_ directory: URL) throws(BackupError) {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: directory.path, reason: "cannot open directory: \(errnoDescription())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: directory.path, reason: "fsync failed: \(errnoDescription())") }
    }

    /// Flushes a file's data and size to disk.
    static func fsyncFile(_ url: URL) throws(BackupError) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: url.path, reason: "cannot open: \(errnoDescription())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: url.path, reason: "fsync failed: \(errnoDescription())") }
    }

    /// Renames `source` to `destination` atomically (same file system).
    static func rename(_ source: URL, to destination: URL) throws(BackupError) {
        guard Glibc.rename(source.path, destination.path) == 0 else {
            throw .io(path: destination.path, reason: "rename failed: \(errnoDescription())")
        }
    }

    /// Removes a file if it exists; a missing file is not an error.
    static func removeIfPresent(_ url: URL) {
        _ = unlink(url.path)
    }

    /// Removes a file; a missing file is not an error, any other failure is.
    static func remove(_ url: URL) throws(BackupError) {
        guard unlink(url.path) == 0 || errno == ENOENT else {
            throw .io(path: url.path, reason: "cannot delete: \(errnoDescription())")
        }
    }

    /// Free bytes available to this user on the file system holding `url`.
    static func availableBytes(at url: URL) throws(BackupError) -> Int64 {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else {
            throw .io(path: url.path, reason: "cannot read free space: \(errnoDescription())")
        }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// The size of a file, or nil when it does not exist.
    static func size(of url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Whether anything (a file, a folder, a link) is at `url`, without following a link.
    static func exists(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }

    /// Whether a regular file exists at `url`.
    static func isRegularFile(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
