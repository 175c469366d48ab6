import Foundation

/// What a server reports at `/api/status`.
public struct ServerStatus: Encodable, Equatable, Sendable {
    public enum State: String, Encodable, Sendable {
        case ready, busy, maintenance
    }

    /// The protected database: its kind and where it lives, as shown to a person.
    public struct Database: Encodable, Equatable, Sendable {
        /// `sqlite` or `postgresql`.
        public var kind: SourceKind
        /// The SQLite file's path, or the PostgreSQL URL without its password.
        public var location: String

        public init(_ location: DatabaseLocation) {
            kind = location.kind
            self.location = location.displayed
        }
    }

    public var version: String
    public var state: State
    public var database: Database
    @ExplicitNull public var currentJob: JobStatus?
    @ExplicitNull public var lastRestore: RestoreOutcome?

    enum CodingKeys: String, CodingKey {
        case version, state, database
        case currentJob = "current_job"
        case lastRestore = "last_restore"
    }
}

extension JobRunner {
    /// `maintenance` during a restore; `busy` while a job runs here or another process (the
    /// CLI) holds the job lock; `ready` otherwise.
    /// The job comes from the actor; the lock and the last restore are read on the blocking
    /// threads, outside it.
    public nonisolated func status() async -> ServerStatus {
        let (job, hasJob) = await (currentJob, self.hasJob)
        let dataDirectory = service.dataDirectory
        let (lockHeld, lastRestore) = await BlockingWork.run {
            (AdvisoryLock.isHeld(at: dataDirectory.jobLock.path), dataDirectory.lastRestore())
        }
        let busy = hasJob || lockHeld
        let state: ServerStatus.State = gate.isInMaintenance ? .maintenance : busy ? .busy : .ready
        return ServerStatus(
            version: BackupManagerVersion.current, state: state, database: .init(dataDirectory.location),
            currentJob: job, lastRestore: lastRestore)
    }

    /// `info` with the in-memory progress of this process's running job, fresher than the
    /// catalog's per-percent copy.
    public func withLiveProgress(_ info: BackupInfo) -> BackupInfo {
        guard info.status.isActive, let job = currentJob, job.backupID == info.id, let progress = job.progress else {
            return info
        }
        var info = info
        info.progress = progress
        return info
    }
}

extension JobRunner {
    /// ``withLiveProgress(_:)`` over a page of backups.
    public func withLiveProgress(_ infos: [BackupInfo]) -> [BackupInfo] {
        infos.map { withLiveProgress($0) }
    }
}
