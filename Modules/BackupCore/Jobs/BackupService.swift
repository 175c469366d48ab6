import Foundation
import Synchronization

/// The core's entry point for backup work: create, verify and delete backups on one data
/// directory, coordinating with other processes through the job lock and the catalog.
public struct BackupService: Sendable {
    public let dataDirectory: DataDirectory
    public let catalog: Catalog
    let clock: @Sendable () -> Date
    let snapshotEngine: SnapshotEngine
    /// The calendar (time zone) retention counts days, weeks and months in.
    let calendar: Calendar
    /// Free bytes on the file system of a path; tests replace it to simulate a full disk.
    public let freeSpace: @Sendable (URL) throws(BackupError) -> Int64
    /// The data directory's `backups/`, where bundles are made and kept (see ``store(for:)``).
    var localStore: LocalStore
    /// The off-site credentials the environment gives (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`); tests set their own.
    public var offsiteEnvironment = OffsiteEnvironment.process
    /// The passphrase the environment gives (`BACKUP_PASSPHRASE`); tests set their own.
    public var encryptionEnvironment = EncryptionEnvironment.process
    /// Where PostgreSQL's tools are found (`PATH`) and what libpq reads (`PGPASSWORD`,
    /// `PGPASSFILE`…); tests set their own.
    public var postgresEnvironment = PostgresEnvironment.process
    /// Keys the operator gave for this run (the CLI's `--identity`, `--passphrase-file`), tried
    /// first when an encrypted bundle is read (see ``bundleKeys()``).
    public var givenKeys: [AgeKey] = []
    /// Where the ends of backups, verifications, uploads and retention are counted; by default
    /// the process's metrics factory (the server sets its own registry's).
    public var metrics = BackupMetrics()
    /// Called after an incremental backup seals each pack, with its number: tests inject a failure
    /// there (a crash between packs).
    var repositoryAfterPack: @Sendable (Int) throws(BackupError) -> Void = { _ in }

    /// - Parameter clock: where time comes from; tests pass a fixed or advancing one.
    public init(
        dataDirectory: DataDirectory, catalog: Catalog, clock: @escaping @Sendable () -> Date = { Date() },
        snapshotEngine: SnapshotEngine = SnapshotEngine()
    ) {
        self.init(
            dataDirectory: dataDirectory, catalog: catalog, clock: clock, snapshotEngine: snapshotEngine,
            calendar: .current, freeSpace: { (url) throws(BackupError) in try FileOps.availableBytes(at: url) })
    }

    init(
        dataDirectory: DataDirectory, catalog: Catalog, clock: @escaping @Sendable () -> Date,
        snapshotEngine: SnapshotEngine, calendar: Calendar = .current,
        freeSpace: @escaping @Sendable (URL) throws(BackupError) -> Int64
    ) {
        self.calendar = calendar
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.clock = clock
        self.snapshotEngine = snapshotEngine
        self.freeSpace = freeSpace
        self.localStore = LocalStore(dataDirectory: dataDirectory)
    }

    /// Opens the data directory's catalog and builds a service on it.
    public init(dataDirectory: DataDirectory, clock: @escaping @Sendable () -> Date = { Date() }) throws(BackupError) {
        self.init(
            dataDirectory: dataDirectory, catalog: try Catalog(dataDirectory: dataDirectory, now: clock()), clock: clock
        )
    }

    /// Builds a service on an existing data directory whose catalog is opened for reading only
    /// (``Catalog/init(readingFrom:)-(DataDirectory)``): for commands that only read, it
    /// creates and writes nothing.
    public init(
        readingFrom dataDirectory: DataDirectory, clock: @escaping @Sendable () -> Date = { Date() }
    )
        throws(BackupError)
    {
        self.init(dataDirectory: dataDirectory, catalog: try Catalog(readingFrom: dataDirectory), clock: clock)
    }

    /// The current time, to the millisecond the catalog stores.
    func now() -> Date {
        let milliseconds = (clock().timeIntervalSince1970 * 1000).rounded(.down)
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }

    /// Takes the job lock or fails at once with ``BackupError/backupInProgress``. Only the lock:
    /// reconciliation, which moves and rewrites things, is ``beginJob()``'s second step.
    public func acquireJobLock() throws(BackupError) -> JobLease {
        try dataDirectory.prepare()
        guard let lock = try AdvisoryLock.tryAcquire(at: dataDirectory.jobLock.path) else {
            throw .backupInProgress
        }
        return JobLease(lock: lock, catalog: catalog)
    }

    /// What every real job (a backup, a verification, a restore, an import, a prune that
    /// deletes) does first: takes the job lock and, since no other process is working then,
    /// reconciles. Records left `pending`/`running` by a dead process are marked failed
    /// ("interrupted"), the backups they used are free again, `.tmp/` is emptied, and `backups/`
    /// and the catalog are brought into agreement (see ``reconcileHoldingLock(into:)``). A dry run or a settings change takes the
    /// lock alone, so it never moves a file.
    public func beginJob() throws(BackupError) -> JobLease {
        try beginJobReporting().lease
    }

    /// ``beginJob()``, also returning what reconciliation did.
    public func beginJobReporting() throws(BackupError) -> (lease: JobLease, report: ReconcileReport) {
        let lease = try acquireJobLock()
        do {
            var report = ReconcileReport()
            // A restore of directories a dead process left is finished or rolled back first.
            report.restoreRecovered = try DirectorySwap.recover(in: dataDirectory).map {
                $0 == .databaseReplaced ? "finished" : "rolled back"
            }
            report.interrupted = try catalog.failActiveRecords(
                reason: "interrupted: the process running this job stopped before it finished", now: now())
            try catalog.clearUses()
            // Uploads run under the job lock: one left `uploading` belongs to a dead process.
            try catalog.resetInterruptedUploads()
            report.temporaryFilesRemoved = removeTemporaryFiles()
            try reconcileHoldingLock(into: &report)
            return (lease, report)
        } catch {
            lease.release()
            throw error
        }
    }

    /// Reconciles and applies retention once, as a server does at start-up. A retention failure
    /// does not stop the start: it is logged, in the report and in the stats.
    public func startUp() throws(BackupError) -> (ReconcileReport, PruneReport) {
        let (lease, report) = try beginJobReporting()
        defer { lease.release() }
        return (report, try pruneHoldingLock(dryRun: false))
    }

    /// Empties `.tmp/`, except the partial files of imports still being received and the exports
    /// of downloads still being served (they hold a `flock` on their file; see ``BundleImport``,
    /// ``TemporaryExport``).
    private func removeTemporaryFiles() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.temporary.path)) ?? []
        var removed = 0
        for name in names {
            let file = dataDirectory.temporary.appendingPathComponent(name)
            if name.hasPrefix("import-") || name.hasPrefix("download-"), OutputFile.isInUse(file) { continue }
            try? FileManager.default.removeItem(at: file)
            removed += 1
        }
        return removed
    }
}

/// Proof of holding the job lock; the lock is released with ``release()`` or when the lease
/// is freed.
///
/// The backups the job works on are recorded through the lease (``use(_:for:at:)``), in the
/// catalog where every process sees them, and forgotten when the lease is released.
public final class JobLease: Sendable {
    private let lock: AdvisoryLock
    private let catalog: Catalog
    private let uses = Mutex<Set<String>>([])

    init(lock: AdvisoryLock, catalog: Catalog) {
        self.lock = lock
        self.catalog = catalog
    }

    /// Records that the job uses backup `id` (verifies it, restores from it): deleting it is
    /// refused with ``BackupError/backupInUse(id:job:)`` until ``endUse(of:)`` or ``release()``.
    func use(_ id: String, for job: JobKind, at date: Date) throws(BackupError) {
        try catalog.recordUse(of: id, by: job, at: date)
        uses.withLock { _ = $0.insert(id) }
    }

    /// Forgets the use of backup `id`.
    func endUse(of id: String) {
        guard uses.withLock({ $0.remove(id) }) != nil else { return }
        // A row that cannot be removed now is stale once the lock is released: it no longer
        // refuses anything, and the next job's reconciliation removes it.
        try? catalog.endUse(of: id)
    }

    /// Forgets the job's uses and releases the job lock.
    public func release() {
        for id in uses.withLock({ $0 }) { endUse(of: id) }
        lock.release()
    }
}
