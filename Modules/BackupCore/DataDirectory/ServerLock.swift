import Foundation

/// The lock a running `backup-api` holds on its data directory for its whole life: a second
/// server refuses to start, and the CLI's maintenance path knows a server is there.
public final class ServerLock: Sendable {
    private let lock: AdvisoryLock

    private init(lock: AdvisoryLock) {
        self.lock = lock
    }

    /// Takes the server lock, or fails with a clear message when another server holds it.
    public static func acquire(_ dataDirectory: DataDirectory) throws(BackupError) -> ServerLock {
        try dataDirectory.prepare()
        guard let lock = try AdvisoryLock.tryAcquire(at: dataDirectory.serverLock.path) else {
            throw .serverAlreadyRunning(path: dataDirectory.root.path)
        }
        return ServerLock(lock: lock)
    }

    /// Whether a server holds the data directory now.
    public static func isHeld(_ dataDirectory: DataDirectory) -> Bool {
        AdvisoryLock.isHeld(at: dataDirectory.serverLock.path)
    }

    public func release() {
        lock.release()
    }
}

extension BackupService {
    /// Refuses (``BackupError/serverHoldsDataDirectory``) while a backup-api serves this data
    /// directory: the CLI's restore is the maintenance path, for when the service is down.
    public func ensureNoServerRunning() throws(BackupError) {
        if ServerLock.isHeld(dataDirectory) { throw .serverHoldsDataDirectory }
    }
}
