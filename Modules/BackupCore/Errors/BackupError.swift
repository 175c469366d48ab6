import Foundation

/// The one domain error of Backup Manager.
///
/// Every face maps it once: the API turns ``code`` into `error.code` and an HTTP status,
/// the CLI turns it into a message and an exit code.
public enum BackupError: Error, Equatable, Sendable {
    /// Another backup, verification or restore holds the data directory's job lock.
    case backupInProgress
    /// No backup with this id exists in the catalog.
    case notFound(id: String)
    /// The id is not of the form the catalog issues.
    case invalidID(String)
    /// An id prefix too short to name one backup (see ``BackupID/minimumPrefixLength``).
    case idPrefixTooShort(String)
    /// An id prefix that more than one backup's id starts with.
    case ambiguousID(prefix: String, candidates: [String])
    /// The bundle does not match what it claims to be; the reason says where it differs.
    case verificationFailed(reason: String)
    /// The disk cannot hold the backup.
    case insufficientSpace(needed: Int64, available: Int64)
    /// An upload announced more bytes than can be accepted (more than the disk can hold).
    case payloadTooLarge(size: Int64, limit: Int64)
    /// The protected database cannot be opened or read.
    case sourceUnavailable(path: String, reason: String)
    /// The job was cancelled before it finished.
    case cancelled
    /// The backup is not in a state that allows `action` (see ``BackupStatus/allows(_:)``): only
    /// completed backups are downloaded, verified and restored.
    case notCompleted(id: String, status: BackupStatus, action: BackupAction)
    /// A job (`job`) works on the backup right now, in this process or another one: it makes,
    /// verifies or restores it, so it cannot be deleted until that job ends.
    case backupInUse(id: String, job: JobKind)
    /// An imported bundle's backup id is already in the catalog.
    case duplicateBackup(id: String)
    /// The backup's page size differs from the live WAL database's, which SQLite cannot change
    /// in WAL mode; nothing was written.
    case pageSizeMismatch(backup: Int, live: Int)
    /// Another backup-api already serves this data directory.
    case serverAlreadyRunning(path: String)
    /// The server is shutting down and starts no new job.
    case shuttingDown
    /// Saving the settings would make retention delete `count` backups now, and that was not
    /// confirmed.
    case retentionWouldDelete(count: Int)
    /// The file system filled up while SQLite wrote at `path` (a snapshot, the catalog).
    case diskFull(path: String)
    /// A query parameter (a page limit, a cursor) is not acceptable.
    case invalidQuery(parameter: String, reason: String)
    /// Input failed validation; `fields` names each bad field with its reason.
    case invalidInput(fields: [String: String])
    /// A file operation failed.
    case io(path: String, reason: String)
    /// A backup-api server holds the data directory, so the maintenance path is refused.
    case serverHoldsDataDirectory
    /// The data directory does not exist, and the command only works on an existing one.
    case dataDirectoryMissing(path: String)
    /// A file the operator named does not exist.
    case fileNotFound(path: String)
    /// A file the operator named is not a backup bundle at all (as opposed to a damaged one).
    case notABundle(path: String, reason: String)
    /// A restore waited `seconds` (`restore_lock_timeout_seconds`) for the application to release
    /// the live database and gave up; the database is unchanged.
    case databaseLocked(seconds: Int)
    /// A bundle's directory (its absolute `path` when backed up) matches no configured
    /// directory, so its files have nowhere to go; nothing was restored.
    case directoryNotConfigured(path: String)
    /// A restore would create `path` (a staging tree, a kept old tree), but something is there.
    case pathInTheWay(path: String)
    /// The off-site (S3-compatible) storage failed; ``OffsiteFailure/kind`` names how.
    case offsite(OffsiteFailure)
    /// An external tool (`pg_dump`, `pg_restore`, `psql`) is not on `PATH`; `package` is the
    /// Debian package that installs it.
    case toolMissing(tool: String, package: String)
    /// The tool on `PATH` is older than the server it must work with (pg_dump refuses a newer
    /// server); `package` is the Debian package whose newer version it needs.
    case toolOutdated(tool: String, version: String, serverVersion: String, package: String)
    /// An external tool exited with `status`; `stderr` is the end of what it wrote there
    /// (bounded, any password taken out).
    case toolFailed(tool: String, status: Int32, stderr: String)
    /// The bundle's database is of another kind than the live one (a PostgreSQL dump and a
    /// SQLite database); nothing was restored.
    case sourceKindMismatch(bundle: SourceKind, live: SourceKind)

    /// A stable snake_case code shared by the API's `error.code` and the CLI's messages.
    public var code: String {
        switch self {
        case .backupInProgress: "backup_in_progress"
        case .notFound: "not_found"
        case .invalidID, .idPrefixTooShort: "invalid_id"
        case .ambiguousID: "ambiguous_id"
        // A file that is no bundle fails verification as surely as a damaged one (a bundle whose
        // first byte flipped is both); only the message differs.
        case .verificationFailed, .notABundle: "verification_failed"
        case .insufficientSpace: "insufficient_space"
        case .payloadTooLarge: "payload_too_large"
        case .sourceUnavailable: "source_unavailable"
        case .cancelled: "cancelled"
        case .notCompleted: "backup_not_completed"
        case .backupInUse: "backup_in_use"
        case .duplicateBackup: "duplicate_backup"
        case .pageSizeMismatch: "page_size_mismatch"
        case .serverAlreadyRunning: "server_already_running"
        case .shuttingDown: "shutting_down"
        case .retentionWouldDelete: "retention_would_delete"
        case .diskFull: "disk_full"
        case .invalidQuery: "invalid_query"
        case .invalidInput: "validation_failed"
        case .io: "io_error"
        case .serverHoldsDataDirectory: "server_running"
        case .dataDirectoryMissing: "data_directory_missing"
        case .fileNotFound: "file_not_found"
        case .databaseLocked: "database_locked"
        case .directoryNotConfigured: "directory_not_configured"
        case .pathInTheWay: "path_in_the_way"
        case .offsite: "offsite_failed"
        case .toolMissing: "tool_missing"
        case .toolOutdated: "tool_outdated"
        case .toolFailed: "tool_failed"
        case .sourceKindMismatch: "source_kind_mismatch"
        }
    }

    /// A sentence for a person, naming what went wrong and, where it helps, what to do.
    public var message: String {
        switch self {
        case .backupInProgress:
            "another backup, verification or restore is running; try again when it has finished"
        case .notFound(let id):
            "no backup with id \(id)"
        case .invalidID(let id):
            "\(id.prefix(80).debugDescription) is not a backup id"
        case .idPrefixTooShort(let prefix):
            "\(prefix.debugDescription) is too short to name a backup: give at least "
                + "\(BackupID.minimumPrefixLength) characters of its id"
        case .ambiguousID(let prefix, let candidates):
            "\(prefix) matches \(candidates.count) backups, give more characters: "
                + candidates.prefix(10).joined(separator: ", ") + (candidates.count > 10 ? ", …" : "")
        case .verificationFailed(let reason):
            "verification failed: \(reason)"
        case .insufficientSpace(let needed, let available):
            "not enough free space for the backup: about \(ByteCount.format(needed)) needed, "
                + "\(ByteCount.format(available)) available"
        case .payloadTooLarge(let size, let limit):
            "the upload of \(ByteCount.format(size)) is larger than the \(ByteCount.format(limit)) that can be accepted"
        case .sourceUnavailable(let path, let reason):
            "cannot read the database \(path): \(reason)"
        case .cancelled:
            "the job was cancelled"
        case .notCompleted(let id, let status, let action):
            "backup \(id) is \(status.rawValue); only completed backups can be \(action.pastParticiple)"
        case .backupInUse(let id, .backup):
            "backup \(id) is being made; cancel it (where it runs) before deleting it"
        case .backupInUse(let id, let job):
            "backup \(id) is being \(job.pastParticiple); delete it when that job has finished"
        case .duplicateBackup(let id):
            "backup \(id) is already in the catalog"
        case .pageSizeMismatch(let backup, let live):
            "the backup's page size (\(backup)) differs from the live WAL database's (\(live)); "
                + "SQLite cannot change it in WAL mode"
        case .serverAlreadyRunning(let path):
            "another backup-api already serves the data directory \(path)"
        case .shuttingDown:
            "the server is shutting down"
        case .retentionWouldDelete(let count):
            "not saved: these settings make retention delete \(count) backup\(count == 1 ? "" : "s") now; "
                + "pass --yes to save them anyway (--dry-run lists them)"
        case .diskFull(let path):
            "the disk is full: \(path) cannot be written"
        case .invalidQuery(let parameter, let reason):
            "\(parameter) \(reason)"
        case .invalidInput(let fields):
            "invalid input: "
                + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        case .io(let path, let reason):
            "\(path): \(reason)"
        case .serverHoldsDataDirectory:
            "a backup-api server is running on this data directory; stop it first or use the API"
        case .dataDirectoryMissing(let path):
            "there is no data directory at \(path)"
        case .fileNotFound(let path):
            "no such file: \(path)"
        case .notABundle(let path, let reason):
            "\(path) is not a backup bundle (\(reason))"
        case .databaseLocked(let seconds):
            "the application kept the database locked for \(seconds) s (restore_lock_timeout_seconds); nothing was "
                + "restored and the database is unchanged; try again when its transactions are shorter"
        case .offsite(let failure):
            "off-site storage: \(failure.detail)"
        case .directoryNotConfigured(let path):
            "the bundle's directory \(path) is not among the configured directories; add it "
                + "(backup settings set directories=…) or restore --only database"
        case .pathInTheWay(let path):
            "\(path) is in the way (an old tree kept by an earlier restore?); move or remove it, then try again"
        case .toolMissing(let tool, let package):
            "\(tool) was not found on PATH: install the Debian package \(package)"
        case .toolOutdated(let tool, let version, let serverVersion, let package):
            "\(tool) \(version) is older than the server (PostgreSQL \(serverVersion)) and cannot work with it: "
                + "install the Debian package \(package) of version \(serverVersion.prefix { $0 != "." }) or newer"
        case .toolFailed(let tool, let status, let stderr):
            "\(tool) failed (exit status \(status))" + (stderr.isEmpty ? "" : ": \(stderr)")
        case .sourceKindMismatch(let bundle, let live):
            "the backup holds a \(bundle.displayName) database but the live database is \(live.displayName); "
                + "nothing was restored"
        }
    }
}

extension BackupError: LocalizedError {
    public var errorDescription: String? { message }
}
