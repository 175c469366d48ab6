import Foundation
import Logging
import Synchronization

/// What kind of work a job does.
public enum JobKind: String, Codable, Sendable, CaseIterable {
    case backup
    case verify
    case `import`
    case restore
    /// The off-site copy of a completed backup.
    case upload
}

/// A job as the faces show it (`current_job`, events).
public struct JobStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case running, completed, failed, cancelled
    }

    public var kind: JobKind
    public var backupID: String
    public var state: State
    public var startedAt: Date
    @ExplicitNull public var phase: JobProgress.Phase?
    /// How far the whole job has come (a backup counts the database twice: copy, then compress).
    @ExplicitNull public var progress: BackupProgress?
    /// How far the current phase has come, against what the operator knows (the database's
    /// size while a backup copies or compresses it): what the page shows beside the phase's name.
    @ExplicitNull public var phaseProgress: BackupProgress? = nil
    @ExplicitNull public var error: String?

    enum CodingKeys: String, CodingKey {
        case kind
        case backupID = "backup_id"
        case state
        case startedAt = "started_at"
        case phase, progress
        case phaseProgress = "phase_progress"
        case error
    }
}

/// Runs backups and verifications in the background, one at a time, and tells subscribers
/// about their progress and end.
///
/// "One at a time" holds across processes too: every job takes the data directory's job lock,
/// so a CLI backup and a server backup exclude each other.
///
/// The actor only coordinates: a job's preparation and its work run on ``BlockingWork``'s
/// threads, so a request that asks the runner something never waits behind a backup.
public actor JobRunner {
    public nonisolated let service: BackupService
    private let alerts: AlertNotifier?
    private var current: (status: JobStatus, task: Task<Void, Never>)?
    /// A job is being prepared (lock, reconciliation, record) on the blocking threads: the runner
    /// is taken, though ``currentJob`` is still nil.
    private var preparing = false
    /// ``shutdown()`` waiting for a preparation to end (and its job to launch).
    private var preparationWaiters: [CheckedContinuation<Void, Never>] = []
    private var subscribers: [UUID: AsyncStream<RunnerEvent>.Continuation] = [:]
    private var closed = false
    /// Admission control of the server this runner serves; a restore puts it in maintenance.
    public nonisolated let gate = MaintenanceGate()
    private let restarts = AsyncStream<RestoreOutcome>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// How long a restore's maintenance waits for admitted requests before it goes on.
    private let drainTimeout: Duration

    /// - Parameters:
    ///   - alerts: told about every backup job that ends (succeeded or failed, not cancelled).
    ///   - drainTimeout: how long a restore's maintenance waits for running requests.
    public init(service: BackupService, alerts: AlertNotifier? = nil, drainTimeout: Duration = .seconds(10)) {
        self.service = service
        self.alerts = alerts
        self.drainTimeout = drainTimeout
    }

    /// The job running in this process, with its latest progress.
    public var currentJob: JobStatus? { current?.status }

    /// Starts a backup of `scope` (nil: the settings' `default_scope`) and returns its `pending`
    /// record at once.
    public func startBackup(
        type: BackupType = .manual, note: String?, scope: BackupScope? = nil
    ) async throws(BackupError) -> BackupInfo {
        let prepared = try await prepare { (service) throws(BackupError) in
            try service.prepareBackup(type: type, note: note, scope: scope)
        }
        launch(kind: .backup, backupID: prepared.record.id) { service, progress throws(BackupError) in
            try await service.run(prepared, progress: progress)
        }
        return prepared.record.info
    }

    /// Starts the off-site upload of a completed backup as a job (kind `upload`, phase `upload`)
    /// and returns its record at once. A failed upload leaves the backup as it is, its off-site
    /// copy `failed` (retried by ``retryUpload()``), and alerts the webhook.
    public func startUpload(id: String) async throws(BackupError) -> BackupInfo {
        let prepared = try await prepare { (service) throws(BackupError) in try service.prepareUpload(id: id) }
        let alerts = self.alerts
        launch(kind: .upload, backupID: id) { service, progress throws(BackupError) in
            try await service.runUpload(prepared, alerts: alerts, progress: progress)
        }
        return prepared.record.info
    }

    /// Starts the upload of the oldest backup still waiting for its off-site copy (pending or
    /// failed), when off-site copies are on and no job runs; returns it, or nil when there was
    /// nothing to do or the runner is busy.
    @discardableResult
    public func retryUpload() async -> BackupInfo? {
        guard !hasJob, !closed, !gate.isInMaintenance else { return nil }
        let service = self.service
        let next = await BlockingWork.run { () -> BackupRecord? in
            guard (try? service.offsiteTarget()) != nil else { return nil }
            return (try? service.catalog.backupsAwaitingUpload())?.first
        }
        guard let next else { return nil }
        return try? await startUpload(id: next.id)
    }

    /// Starts verifying a completed backup and returns its record at once; `readData` reads
    /// every chunk of an incremental backup (see ``BackupService/verify(id:readData:progress:)``).
    public func startVerification(id: String, readData: Bool = false) async throws(BackupError) -> BackupInfo {
        let prepared = try await prepare { (service) throws(BackupError) in
            try service.prepareVerification(id: id, readData: readData)
        }
        launch(kind: .verify, backupID: prepared.record.id) { service, progress throws(BackupError) in
            try service.runVerification(prepared, progress: progress)
        }
        return prepared.record.info
    }

    /// Starts a restore of backup `id` as a job: verify, maintenance and drain, wait for the
    /// live database's write lock, safety backup (unless declined) and replacement under that
    /// lock, record the outcome; then a restart is requested (see ``restartRequests``). A restore
    /// that fails before writing into the database (a bundle that does not verify, a lock that
    /// does not come within `restore_lock_timeout_seconds`) leaves maintenance again and requests
    /// no restart.
    ///
    /// `options` choose the part restored (`only`) and whether the directories' old trees are
    /// kept; the directories are extracted beside their targets while verifying and swapped in
    /// under the same lock, right before the database.
    public func startRestore(
        id: String, safetyBackup: Bool, options: RestoreOptions = RestoreOptions()
    ) async throws(BackupError) -> BackupInfo {
        let record = try await prepare { (service) throws(BackupError) in
            let record = try service.catalog.record(id: id)
            try record.ensure(.restore)
            _ = try BackupService.parts(of: record.scope, only: options.only)
            return record
        }
        let gate = self.gate
        let drainTimeout = self.drainTimeout
        let restarts = self.restarts.continuation
        launch(kind: .restore, backupID: id) { service, progress throws(BackupError) in
            let prepared: PreparedRestore
            do throws(BackupError) {
                prepared = try service.prepareRestore(.backup(id: id), options: options) { step in
                    switch step {
                    case .verifying(let step), .extracting(let step): progress(step)
                    default: break
                    }
                }
            } catch {
                service.recordFailedRestore(backupID: id, error: error)
                throw error
            }
            let replacing = RestoreMilestone()
            let failed = JobResult<RestoreOutcome>()
            do throws(BackupError) {
                let outcome = try await service.runRestore(prepared, safetyBackup: safetyBackup) { step in
                    switch step {
                    case .verifying, .extracting: break
                    case .waitingForLock:
                        progress(JobProgress(backupID: id, phase: .waitingForLock, doneBytes: 0, totalBytes: 0))
                    case .safetyBackup(let step):
                        // The safety backup's steps, shown as the restore's phases.
                        var step = step
                        step.backupID = id
                        progress(step)
                    case .replacing:
                        replacing.reach()
                        progress(JobProgress(backupID: id, phase: .replace, doneBytes: 0, totalBytes: 0))
                    }
                } beforeLocking: {
                    gate.enterMaintenance()
                    _ = await gate.drain(timeout: drainTimeout)
                } recorded: { outcome in
                    if outcome.outcome == .failed { failed.keep(outcome) }
                }
                restarts.yield(outcome)
            } catch {
                // Nothing written into the database (or a lock that did not come: SQLite rolled the
                // copy back): serve again. Written, even if it then failed: restart anyway, so that
                // nothing keeps state from before the attempt.
                let unchanged: Bool
                if case .databaseLocked = error { unchanged = true } else { unchanged = !replacing.isReached }
                if !unchanged, let outcome = try? failed.get() {
                    restarts.yield(outcome)
                } else {
                    gate.leaveMaintenance()
                }
                throw error
            }
        }
        return record.info
    }

    /// Verifies and records a received import as a job (kind `import`, phase `verify` with the
    /// bytes of the bundle read, under the import's own id until its manifest is read), and
    /// returns its record when the job ends. ``BackupError/backupInProgress`` while another job
    /// runs, here or in another process.
    public func runImport(_ session: BundleImport) async throws(BackupError) -> BackupInfo {
        try ensureIdle()
        let result = JobResult<BackupInfo>()
        let task = launch(kind: .import, backupID: session.id) { _, progress throws(BackupError) in
            try result.keep { () throws(BackupError) in try session.finish(progress: progress) }
        }
        await task.value
        let info = try result.get()
        if info.offsite.status == .pending { _ = try? await startUpload(id: info.id) }
        return info
    }

    /// Restores that finished and want the process restarted (the server re-executes itself or
    /// exits for its supervisor).
    public nonisolated var restartRequests: AsyncStream<RestoreOutcome> { restarts.stream }

    /// What ``delete(id:)`` did.
    public enum Deletion: Sendable, Equatable {
        case deleted
        /// The backup was being made here: its job is being cancelled.
        case cancelling(BackupInfo)
    }

    /// Deletes a finished backup, or cancels the job still making it in this process. A backup
    /// another process makes, or that a job verifies or restores (here or elsewhere), is
    /// ``BackupError/backupInUse(id:job:)``.
    public func delete(id: String) async throws(BackupError) -> Deletion {
        let service = self.service
        let record = try await service.catalog.async.record(id: id)
        guard record.status.isActive else {
            try await BlockingWork.run { () throws(BackupError) in try service.delete(id: id) }
            return .deleted
        }
        guard cancel(backupID: id) else {
            throw .backupInUse(id: id, job: .backup)
        }
        return .cancelling(record.info)
    }

    /// Cancels the running job when it works on `backupID`; returns whether it did.
    public func cancel(backupID: String) -> Bool {
        guard let current, current.status.backupID == backupID else { return false }
        current.task.cancel()
        return true
    }

    /// A stream of job updates (every progress step and every end) and of catalog changes (see
    /// ``watchCatalog(every:)``). It finishes at ``shutdown()``.
    public func events() -> AsyncStream<RunnerEvent> {
        let (stream, continuation) = AsyncStream<RunnerEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        if closed {
            continuation.finish()
            return stream
        }
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        return stream
    }

    /// Cancels the running job, waits for it to clean up, and ends every event stream.
    public func shutdown() async {
        closed = true
        // A job being prepared launches in the same turn its preparation ends, and is then
        // cancelled below like any running job.
        if preparing { await withCheckedContinuation { preparationWaiters.append($0) } }
        if let current {
            current.task.cancel()
            await current.task.value
        }
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }

    /// Waits until the running job, if any, has ended.
    public func waitForCurrentJob() async {
        await current?.task.value
    }

    private func ensureIdle() throws(BackupError) {
        guard !closed else { throw .shuttingDown }
        // During a restore's maintenance (until the restart) no new job starts; the scheduler
        // treats this like any busy data directory and waits.
        guard current == nil, !preparing, !gate.isInMaintenance else { throw .backupInProgress }
    }

    /// Whether a job runs or is being prepared here.
    var hasJob: Bool { current != nil || preparing }

    /// Takes the runner (or fails with ``BackupError/backupInProgress``) and runs a job's
    /// preparation (the job lock, reconciliation, the record) on the blocking threads, leaving
    /// the actor free meanwhile; the caller launches the job right after, in the same turn.
    private func prepare<T: Sendable>(
        _ preparation: @escaping @Sendable (BackupService) throws(BackupError) -> T
    ) async throws(BackupError) -> T {
        try ensureIdle()
        preparing = true
        defer {
            preparing = false
            for waiter in preparationWaiters { waiter.resume() }
            preparationWaiters.removeAll()
        }
        let service = self.service
        return try await BlockingWork.run { () throws(BackupError) -> T in try preparation(service) }
    }

    @discardableResult
    private func launch(
        kind: JobKind, backupID: String,
        work:
            @escaping @Sendable (BackupService, @escaping @Sendable (JobProgress) -> Void) async throws(BackupError) ->
            some Sendable
    ) -> Task<Void, Never> {
        let status = JobStatus(
            kind: kind, backupID: backupID, state: .running, startedAt: service.now(), phase: nil, progress: nil,
            error: nil)
        let (updates, continuation) = AsyncStream<JobProgress>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let service = self.service
        let task = Task {
            // Progress arrives on the work's threads; the stream keeps it ordered into the actor.
            let forwarder = Task { for await step in updates { self.didProgress(step) } }
            var outcome: Result<Void, BackupError> = .success(())
            do throws(BackupError) {
                // The work, and every wait of it, on the blocking threads: never on this actor.
                try await BlockingWork.run { () async throws(BackupError) in
                    _ = try await work(service) { continuation.yield($0) }
                }
            } catch {
                outcome = .failure(error)
            }
            continuation.finish()
            await forwarder.value
            if kind == .backup, let alerts = self.alerts {
                let outcome = outcome
                // The alerts (webhook, heartbeat, chat) read the catalog: off the actor too; a
                // cancelled backup tells nobody.
                await BlockingWork.run {
                    let info = try? service.catalog.record(id: backupID).info
                    switch outcome {
                    case .success: if let info { alerts.backupSucceeded(info) }
                    case .failure(let error) where error != .cancelled:
                        alerts.backupFailed(info, message: error.message)
                    case .failure: break
                    }
                }
            }
            self.didFinish(outcome)
            // A completed backup's off-site copy follows at once, as a job of its own.
            if kind == .backup, case .success = outcome { await self.uploadIfPending(backupID) }
        }
        current = (status, task)
        publish(status)
        return task
    }

    /// Starts backup `id`'s upload when its off-site copy is pending.
    private func uploadIfPending(_ id: String) async {
        guard let record = try? await service.catalog.async.record(id: id), record.offsiteStatus == .pending else {
            return
        }
        _ = try? await startUpload(id: id)
    }

    private func didProgress(_ step: JobProgress) {
        guard var status = current?.status, status.backupID == step.backupID else { return }
        status.phase = step.phase
        status.progress = BackupProgress(doneBytes: step.doneBytes, totalBytes: step.totalBytes)
        status.phaseProgress = BackupProgress(
            doneBytes: step.phaseDoneBytes ?? step.doneBytes, totalBytes: step.phaseTotalBytes ?? step.totalBytes)
        current?.status = status
        publish(status)
    }

    private func didFinish(_ outcome: Result<Void, BackupError>) {
        guard var status = current?.status else { return }
        switch outcome {
        case .success:
            status.state = .completed
            if let progress = status.progress { status.progress?.doneBytes = progress.totalBytes }
            if let progress = status.phaseProgress { status.phaseProgress?.doneBytes = progress.totalBytes }
        case .failure(.cancelled):
            status.state = .cancelled
            status.error = "cancelled"
        case .failure(let error):
            status.state = .failed
            status.error = error.message
        }
        current = nil
        publish(status)
        Self.log(status, endedAt: service.now())
    }

    static let logger = Logger(label: "jobs")

    /// One line per ended job, with the metadata a log shipper keys on: `job`, `backup_id`,
    /// `state`, `duration_seconds`, `bytes` (when known) and `error`.
    private static func log(_ status: JobStatus, endedAt: Date) {
        var metadata: Logger.Metadata = [
            "job": "\(status.kind.rawValue)", "backup_id": "\(status.backupID)", "state": "\(status.state.rawValue)",
            "duration_seconds": "\(String(format: "%.3f", max(0, endedAt.timeIntervalSince(status.startedAt))))",
        ]
        if let bytes = status.progress?.totalBytes { metadata["bytes"] = "\(bytes)" }
        if let error = status.error { metadata["error"] = "\(error)" }
        switch status.state {
        case .failed: logger.error("job failed", metadata: metadata)
        case .cancelled: logger.notice("job cancelled", metadata: metadata)
        default: logger.info("job ended", metadata: metadata)
        }
    }

    private func publish(_ status: JobStatus) {
        publish(.job(status))
    }

    func publish(_ event: RunnerEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    private func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)
    }
}

/// What a job that answers its caller (an import) ended with.
private final class JobResult<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, BackupError>?>(nil)

    /// Keeps `value`.
    func keep(_ value: Value) {
        result.withLock { $0 = .success(value) }
    }

    /// Runs `body`, keeping its value or its error, and rethrows the error.
    func keep(_ body: () throws(BackupError) -> Value) throws(BackupError) {
        do {
            let value = try body()
            result.withLock { $0 = .success(value) }
        } catch {
            result.withLock { $0 = .failure(error) }
            throw error
        }
    }

    /// The value kept; the error kept; ``BackupError/cancelled`` when the job never ran `keep`.
    func get() throws(BackupError) -> Value {
        switch result.withLock({ $0 }) {
        case .success(let value): return value
        case .failure(let error): throw error
        case nil: throw .cancelled
        }
    }
}

/// Whether a restore has begun writing into the live database.
private final class RestoreMilestone: Sendable {
    private let reached = Mutex(false)

    var isReached: Bool { reached.withLock { $0 } }

    func reach() {
        reached.withLock { $0 = true }
    }
}
