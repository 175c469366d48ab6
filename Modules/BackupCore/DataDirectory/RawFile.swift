import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file opened for sequential writing with plain `write(2)`: no buffering of its own,
/// `ENOSPC` reported as ``BackupError/insufficientSpace(needed:available:)``.
final class OutputFile {
    let url: URL
    private var descriptor: Int32
    private(set) var bytesWritten: Int64 = 0

    /// Creates a new file; an existing one is an error (`O_EXCL`).
    init(creating url: URL, mode: mode_t = 0o600) throws(BackupError) {
        self.url = url
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw .io(path: url.path, reason: "cannot create: \(errnoDescription())") }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("write failed")
            }
            offset += written
        }
        bytesWritten += Int64(bytes.count)
    }

    func write(_ bytes: [UInt8]) throws(BackupError) {
        try bytes.withBytes { (buffer) throws(BackupError) in try write(buffer) }
    }

    /// Takes an exclusive `flock` on the file at once (false when someone holds one); it lasts
    /// until the file is closed. Tells others the file is in use (see ``isInUse(_:)``).
    func lock() -> Bool {
        flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    /// Whether a process holds a `flock` on the file at `url` (``lock()``) right now.
    static func isInUse(_ url: URL) -> Bool {
        let probe = open(url.path, O_RDONLY | O_CLOEXEC)
        guard probe >= 0 else { return false }
        defer { _ = Glibc.close(probe) }
        return flock(probe, LOCK_SH | LOCK_NB) != 0
    }

    /// Flushes the file's data and size to disk.
    func sync() throws(BackupError) {
        guard fsync(descriptor) == 0 else { throw failure("fsync failed") }
    }

    func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
    }

    private func failure(_ what: String) -> BackupError {
        let code = errno
        if code == ENOSPC || code == EDQUOT {
            let available = (try? FileOps.availableBytes(at: url.deletingLastPathComponent())) ?? 0
            return .insufficientSpace(needed: bytesWritten, available: available)
        }
        return .io(path: url.path, reason: "\(what): \(String(cString: strerror(code)))")
    }

    deinit { close() }
}

/// A file opened for sequential reading with plain `read(2)`.
final class InputFile {
    let url: URL
    private let descriptor: Int32

    init(reading url: URL) throws(BackupError) {
        self.url = url
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: url.path, reason: "cannot open: \(errnoDescription())") }
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress!, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw .io(path: url.path, reason: "read failed: \(errnoDescription())") }
        }
    }

    /// Fills `buffer` as far as the file allows; fewer bytes only at end of file.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Takes an exclusive `flock` on the file at once (false when someone holds one); it lasts
    /// until the file is closed, and tells others the file is in use (``OutputFile/isInUse(_:)``).
    func lock() -> Bool {
        flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    /// Fills `buffer` from `offset` on (`pread(2)`, the file position untouched); fewer bytes
    /// only at end of file.
    func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(BackupError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = pread(
                descriptor, buffer.baseAddress! + total, buffer.count - total, off_t(offset) + off_t(total))
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: url.path, reason: "read failed: \(errnoDescription())")
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    deinit { _ = Glibc.close(descriptor) }
}
