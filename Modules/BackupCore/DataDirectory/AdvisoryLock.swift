#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock(2)` on a file, released when the process dies or ``release()`` is called.
///
/// `flock` locks belong to the open file description, so two locks in one process exclude each
/// other just as two processes do.
public final class AdvisoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock at once, or returns nil when someone else holds it.
    public static func tryAcquire(at path: String) throws(BackupError) -> AdvisoryLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open lock file: \(errnoDescription())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .io(path: path, reason: "cannot lock: \(String(cString: strerror(code)))")
        }
        return AdvisoryLock(descriptor: fd)
    }

    /// Whether someone holds the lock at `path` right now (without keeping it).
    public static func isHeld(at path: String) -> Bool {
        guard let lock = try? tryAcquire(at: path) else { return true }
        lock.release()
        return false
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Releases the lock; later calls do nothing.
    public func release() {
        // Closing the only descriptor of the open file description drops the flock.
        _ = flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}

func errnoDescription() -> String {
    String(cString: strerror(errno))
}
