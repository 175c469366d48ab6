import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The application directory the acceptance describes: nested and empty folders, a
/// 150-byte name, Cyrillic names, an executable, a private file, a symlink inside the tree and
/// one pointing at `/etc/passwd`; fixed mtimes, so that a restore can be compared exactly.
public enum SampleTree {
    /// Creates the tree at `root` (which must not exist yet).
    public static func create(at root: URL) throws {
        let long = String(repeating: "n", count: 146) + ".bin"
        try directory(".", in: root)
        try file("a/b/c/deep.txt", in: root, "deep\n")
        try file(long, in: root, String(repeating: "0123456789", count: 7_000))
        try file("Фотографии/отчёт за май.txt", in: root, "отчёт\n")
        try file("bin/run.sh", in: root, "#!/bin/sh\necho hi\n", mode: 0o755)
        try file("private.key", in: root, "secret\n", mode: 0o600)
        try file("empty-file", in: root, "")
        try symlink("latest", in: root, to: "a/b/c/deep.txt")
        try symlink("passwd", in: root, to: "/etc/passwd")
        try directory("empty", in: root, mode: 0o750)
        for folder in ["a/b/c", "a/b", "a", "Фотографии", "bin", "."] { try directory(folder, in: root) }
    }

    /// Deletes, changes and adds files and folders, as an application would after a backup.
    public static func change(at root: URL) throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent("a/b/c/deep.txt"))
        try file("private.key", in: root, "rotated\n", mode: 0o644)
        try file("bin/run.sh", in: root, "#!/bin/sh\necho changed\n", mode: 0o700)
        try file("added/new.txt", in: root, "added after the backup\n")
        try FileManager.default.removeItem(at: root.appendingPathComponent("empty"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("latest"))
        try symlink("latest", in: root, to: "private.key")
    }

    /// The fixed mtime of everything the sample creates.
    public static let mtime = 1_650_000_000

    static func file(_ path: String, in root: URL, _ text: String, mode: mode_t = 0o644) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
        chmod(url.path, mode)
        try touch(url)
    }

    static func directory(_ path: String, in root: URL, mode: mode_t = 0o755) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode)
        try touch(url)
    }

    static func symlink(_ path: String, in root: URL, to target: String) throws {
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent(path).path, withDestinationPath: target)
    }

    static func touch(_ url: URL) throws {
        var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, url.path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }
}
