import Foundation
import TestSupport

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

/// Real directory trees for the directory source's tests: made with plain system calls (fast
/// enough for 100,000 files), read back with `lstat` (nothing followed), bundled for real.
enum DirectoryTree {
    /// What one path holds, as compared between an original tree and an extracted one.
    enum Item: Equatable, CustomStringConvertible {
        case directory(mode: Int, mtime: Int64)
        case file(mode: Int, mtime: Int64, bytes: Data)
        case symlink(target: String)

        var description: String {
            switch self {
            case .directory(let mode, let mtime): "directory \(String(mode, radix: 8)) @\(mtime)"
            case .file(let mode, let mtime, let bytes): "file \(String(mode, radix: 8)) @\(mtime) \(bytes.count) bytes"
            case .symlink(let target): "symlink → \(target)"
            }
        }
    }

    /// Creates the regular file `path` (relative to `root`) with `bytes`, `mode` and `mtime`.
    static func file(
        _ path: String, in root: URL, bytes: Data = Data(), mode: mode_t = 0o644, mtime: Int64? = nil
    ) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        if !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
            guard written == bytes.count else { throw POSIXError(.EIO) }
        }
        fchmod(descriptor, mode)
        if let mtime { try setTime(url, mtime) }
    }

    /// Creates the directory `path` with `mode` (and `mtime`, which later writes inside change).
    static func directory(_ path: String, in root: URL, mode: mode_t = 0o755, mtime: Int64? = nil) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode)
        if let mtime { try setTime(url, mtime) }
    }

    static func symlink(_ path: String, in root: URL, to target: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard Glibc.symlink(target, url.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    static func setTime(_ url: URL, _ seconds: Int64) throws {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        guard utimensat(AT_FDCWD, url.path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    /// Every path below `root` (relative) with what it holds; `root` itself as `"."`.
    static func read(_ root: URL) throws -> [String: Item] {
        var items: [String: Item] = [:]
        func visit(_ url: URL, _ relative: String) throws {
            var info = stat()
            guard lstat(url.path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            let mode = Int(info.st_mode & 0o7777)
            let mtime = Int64(info.st_mtim.tv_sec)
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                items[relative] = .directory(mode: mode, mtime: mtime)
                for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                    try visit(url.appendingPathComponent(name), relative == "." ? name : relative + "/" + name)
                }
            case S_IFLNK:
                items[relative] = .symlink(target: try FileManager.default.destinationOfSymbolicLink(atPath: url.path))
            default:
                items[relative] = .file(mode: mode, mtime: mtime, bytes: try Data(contentsOf: url))
            }
        }
        try visit(root, ".")
        return items
    }

    /// Bundles `sources` (gzip, level 1) in a fresh data directory under `scratch`; the bundle's
    /// file and manifest.
    static func bundle(_ sources: [any BackupSource], in scratch: TemporaryDirectory) throws -> (URL, Manifest) {
        let data = DataDirectory(root: scratch.url.appendingPathComponent("data-\(UUID().uuidString.prefix(6))").path)
        try FileManager.default.createDirectory(at: data.temporary, withIntermediateDirectories: true)
        let template = Manifest(id: BackupID.make(), type: .manual, createdAt: Date())
        let filename = BundleName.make(id: template.id, type: .manual, createdAt: template.createdAt)
        let written = try BundleWriter(compressionLevel: 1).write(
            sources: sources, manifest: template, filename: filename, temporary: data.temporary,
            store: LocalStore(dataDirectory: data)
        ) { _ in }
        return (data.backups.appendingPathComponent(written.key), written.manifest)
    }

    /// Verifies `bundle` as `backup verify` does.
    static func verify(_ bundle: URL, in scratch: TemporaryDirectory) throws -> VerificationReport {
        try BundleVerifier().verify(
            bundle: bundle, expectedSHA256: nil, expectedID: nil, temporary: scratch.url)
    }

    /// Extracts `bundle` with GNU tar into a new folder under `scratch`.
    static func untar(_ bundle: URL, in scratch: TemporaryDirectory) throws -> URL {
        let out = scratch.url.appendingPathComponent("untar-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xpzf", bundle.path, "-C", out.path])
        guard tar.status == 0 else { throw CocoaError(.fileReadCorruptFile, userInfo: ["stderr": tar.stderr]) }
        return out
    }
}

/// A folder for a tree of many files, in memory (`/dev/shm`) where the system has it: creating
/// 100,000 files on the test machine's disk takes longer than backing them up. Removed when released.
final class ScratchTree: Sendable {
    let url: URL

    init(_ label: String) {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = access(shm.path, W_OK) == 0 ? shm : FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("backup-manager-\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
