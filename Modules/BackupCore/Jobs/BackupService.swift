import Foundation

/// The core's entry point for backup work: create, verify and delete backups on one data
/// directory, coordinating with other processes through the job lock and the catalog.
public struct BackupService: Sendable {
    public let dataDirectory: DataDirectory
    public let catalog: Catalog
    let clock: @Sendable () -> Date
    let snapshotEngine: SnapshotEngine
    /// Free bytes on the file system of a path; tests replace it to simulate a full disk.
    public let freeSpace: @Sendable (URL) throws(BackupError) -> Int64

    /// - Parameter clock: where time comes from; tests pass a fixed or advancing one.
    public init(
        dataDirectory: DataDirectory, catalog: Catalog, clock: @escaping @Sendable () -> Date = { Date() },
        snapshotEngine: SnapshotEngine = SnapshotEngine()
    ) {
        self.init(
            dataDirectory: dataDirectory, catalog: catalog, clock: clock, snapshotEngine: snapshotEngine,
            freeSpace: { (url) throws(BackupError) in try FileOps.availableBytes(at: url) })
    }

    init(
        dataDirectory: DataDirectory, catalog: Catalog, clock: @escaping @Sendable () -> Date,
        snapshotEngine: SnapshotEngine, freeSpace: @escaping @Sendable (URL) throws(BackupError) -> Int64
    ) {
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.clock = clock
        self.snapshotEngine = snapshotEngine
        self.freeSpace = freeSpace
    }

    /// Opens the data directory's catalog and builds a service on it.
    public init(dataDirectory: DataDirectory, clock: @escaping @Sendable () -> Date = { Date() }) throws(BackupError) {
        self.init(dataDirectory: dataDirectory, catalog: try Catalog(dataDirectory: dataDirectory), clock: clock)
    }

    /// The current time, to the millisecond the catalog stores.
    func now() -> Date {
        let milliseconds = (clock().timeIntervalSince1970 * 1000).rounded(.down)
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }

    /// Takes the job lock or fails at once with ``BackupError/backupInProgress``.
    ///
    /// Whoever takes the lock knows no other process is working, so it also cleans up after
    /// one that died: records left `pending`/`running` are marked failed ("interrupted") and
    /// partial files in `backups/.tmp/` are removed.
    public func acquireJobLock() throws(BackupError) -> JobLease {
        try dataDirectory.prepare()
        guard let lock = try AdvisoryLock.tryAcquire(at: dataDirectory.jobLock.path) else {
            throw .backupInProgress
        }
        try catalog.failActiveRecords(
            reason: "interrupted: the process running this job stopped before it finished", now: now())
        removeTemporaryFiles()
        return JobLease(lock: lock)
    }

    private func removeTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.temporary.path)) ?? []
        for name in names {
            try? FileManager.default.removeItem(at: dataDirectory.temporary.appendingPathComponent(name))
        }
    }
}

/// Proof of holding the job lock; the lock is released with ``release()`` or when the lease
/// is freed.
public final class JobLease: Sendable {
    private let lock: AdvisoryLock

    init(lock: AdvisoryLock) {
        self.lock = lock
    }

    public func release() {
        lock.release()
    }
}
