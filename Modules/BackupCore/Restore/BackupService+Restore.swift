import Foundation

/// What to restore from.
public enum RestoreSource: Sendable, Equatable {
    /// A backup in the catalog.
    case backup(id: String)
    /// A bundle file anywhere (the CLI's maintenance path).
    case file(URL)
}

/// A verified restore, holding the job lock, ready to replace the database and to swap in the
/// directories already extracted beside their targets.
public struct PreparedRestore: Sendable {
    public let backupID: String?
    public let manifest: Manifest
    /// Whether the database is restored (the bundle holds one and `--only files` was not asked).
    public let restoresDatabase: Bool
    /// The database restored into instead of the live one (``RestoreOptions/targetURL``): a
    /// rehearsal, with no safety backup and no directory restored.
    public let targetURL: PostgresURL?
    /// The configured directories the restore replaces, in the manifest's order.
    public let directories: [URL]
    let extracted: URL
    let lease: JobLease
    /// The staged directory trees and their journal; nil when no directory is restored.
    let swap: DirectorySwap?

    /// What the restore replaces, and so what its safety backup holds.
    public var scope: BackupScope {
        BackupScope(holdsDatabase: restoresDatabase, holdsFiles: !directories.isEmpty) ?? .database
    }

    /// Where each directory's old tree goes (`<dir>.pre-restore-<id>`), kept there with `--keep-old`.
    public var oldTrees: [URL] { swap?.journal.directories.map { URL(fileURLWithPath: $0.old) } ?? [] }

    /// Where verification left the bundle's database: the SQLite file and the PostgreSQL dump.
    var workspace: SourceWorkspace { SourceWorkspace(database: extracted) }

    /// Gives up a prepared restore that will not run (the operator declined): removes the
    /// staged trees and the extracted database, and releases the job lock.
    public func discard() {
        var swap = swap
        swap?.rollBack()
        Self.removeExtracted(workspace)
        lease.release()
    }

    /// Removes what verification extracted for the restore.
    static func removeExtracted(_ workspace: SourceWorkspace) {
        SnapshotEngine.removeDatabaseFiles(at: workspace.database)
        FileOps.removeIfPresent(workspace.pgdump)
    }
}

/// Progress of a restore, for the faces.
public enum RestoreStep: Sendable, Equatable {
    case verifying(JobProgress)
    /// Waiting for the write lock on the live database, at most `restore_lock_timeout_seconds`.
    case waitingForLock
    case safetyBackup(JobProgress)
    /// Extracting the bundle's directories next to their targets (a second read of the bundle).
    case extracting(JobProgress)
    /// Writing into the live database: from here on a failure may have changed it (a
    /// PostgreSQL restore is one transaction: a failure leaves the old data).
    case replacing
}

extension BackupService {
    /// Takes the job lock and verifies the bundle (SHA-256, manifest, entry hashes,
    /// `integrity_check`), extracting the database into `.tmp/`, before anything touches the
    /// live database. A bundle that fails is refused with ``BackupError/verificationFailed(reason:)``.
    ///
    /// An incremental backup (its index in the repository) is first exported to a zstd bundle
    /// in `.tmp/` (every chunk checked against its hash, every file against its entry), which
    /// then goes the same way and is removed once the restore is prepared.
    ///
    /// When the restore includes directories (the bundle has some and `options.only` is not
    /// `database`), each one's target is resolved (``restoreTargets(for:)``; a directory that is
    /// not configured refuses the restore here), then the bundle is read a second time and each
    /// directory is extracted next to its target (`<target>.restore-<id>`), every entry checked
    /// against the manifest, and flushed; nothing live is touched yet.
    ///
    /// A bundle whose database is of another kind than the live one (a PostgreSQL dump, a SQLite
    /// database) is refused with ``BackupError/sourceKindMismatch(bundle:live:)``. With
    /// ``RestoreOptions/targetURL`` only the database is restored, into that database; refused
    /// (``BackupError/invalidInput(fields:)``, field `target_url`) for a SQLite location, a
    /// bundle without a PostgreSQL dump, or `only: files`.
    public func prepareRestore(
        _ source: RestoreSource, options: RestoreOptions = RestoreOptions(),
        progress: @escaping @Sendable (RestoreStep) -> Void = { _ in }
    ) throws(BackupError) -> PreparedRestore {
        if options.targetURL != nil {
            guard case .postgres = dataDirectory.location else {
                throw .invalidInput(fields: [
                    "target_url": "only a PostgreSQL database can be restored into another database"
                ])
            }
            guard options.only != .files else {
                throw .invalidInput(fields: ["target_url": "restores the database; it cannot go with only=files"])
            }
        }
        let lease = try beginJob()
        let extracted = dataDirectory.temporary.appendingPathComponent("restore-\(BackupID.make()).sqlite")
        do throws(BackupError) {
            let keys = try bundleKeys()
            /// Verifies the bundle at `bundle` (a local file) and keeps its database at `extracted`.
            func verified(
                _ bundle: URL, expectedSHA: String?, expectedID: String?
            ) throws(BackupError)
                -> VerificationReport
            {
                let total = FileOps.size(of: bundle) ?? 0
                return try BundleVerifier(keys: keys, postgres: postgresEnvironment).verify(
                    bundle: bundle, expectedSHA256: expectedSHA, expectedID: expectedID,
                    temporary: dataDirectory.temporary, keepDatabaseAt: extracted
                ) { done in
                    progress(
                        .verifying(
                            JobProgress(backupID: expectedID ?? "", phase: .verify, doneBytes: done, totalBytes: total))
                    )
                }
            }
            /// Verifies, then stages the directories restored (the second read of the bundle).
            func verifiedAndStaged(
                _ bundle: URL, expectedSHA: String?, expectedID: String?
            ) throws(BackupError) -> PreparedRestore {
                let report = try verified(bundle, expectedSHA: expectedSHA, expectedID: expectedID)
                guard report.isValid, let manifest = report.manifest else {
                    throw BackupError.verificationFailed(reason: report.problems.joined(separator: "; "))
                }
                var (restoresDatabase, restoresFiles) = try Self.parts(of: manifest, only: options.only)
                if let bundle = manifest.databaseKind, restoresDatabase, bundle != dataDirectory.location.kind {
                    throw BackupError.sourceKindMismatch(bundle: bundle, live: dataDirectory.location.kind)
                }
                if options.targetURL != nil {
                    guard manifest.databaseKind == .postgresql else {
                        throw BackupError.invalidInput(fields: ["target_url": "the backup holds no PostgreSQL dump"])
                    }
                    (restoresDatabase, restoresFiles) = (true, false)
                }
                let targets = restoresFiles ? try restoreTargets(for: manifest) : []
                let swap =
                    try targets.isEmpty
                    ? nil
                    : stageDirectories(
                        targets, of: manifest, from: bundle, keys: keys, keepOld: options.keepOld
                    ) { done in
                        let total = FileOps.size(of: bundle) ?? 0
                        progress(
                            .extracting(
                                JobProgress(
                                    backupID: expectedID ?? manifest.id, phase: .extract, doneBytes: done,
                                    totalBytes: total)))
                    }
                return PreparedRestore(
                    backupID: expectedID ?? manifest.id, manifest: manifest, restoresDatabase: restoresDatabase,
                    targetURL: options.targetURL, directories: targets.map(\.target), extracted: extracted,
                    lease: lease, swap: swap)
            }
            switch source {
            case .backup(let id):
                var record = try catalog.record(id: id)
                try record.ensure(.restore)
                try lease.use(id, for: .restore, at: now())
                if record.isInRepository, record.store == S3Store.storeName {
                    // A remote-only incremental backup is pulled into the local repository first
                    // (which also tells its scope: the listing could not).
                    record = try pullRepositoryBackupBlocking(record) { done in
                        progress(.verifying(done))
                    }
                }
                _ = try Self.parts(of: record.scope, only: options.only)
                if record.isInRepository {
                    // An incremental backup is exported to a bundle in `.tmp/`, which then goes
                    // the bundle's way (verified, its directories staged) and is removed.
                    return try withExport(of: record) { done, total in
                        progress(
                            .verifying(JobProgress(backupID: id, phase: .verify, doneBytes: done, totalBytes: total)))
                    } _: { (exported) throws(BackupError) in
                        try verifiedAndStaged(exported.url, expectedSHA: nil, expectedID: record.id)
                    }
                }
                let store = try store(for: record)
                guard try store.size(of: record.filename) != nil else {
                    throw BackupError.verificationFailed(reason: "the bundle file \(record.filename) is missing")
                }
                return try store.open(record.filename) { (bundle) throws(BackupError) in
                    try verifiedAndStaged(bundle, expectedSHA: record.sha256, expectedID: record.id)
                }
            case .file(let url):
                try BundleFile.check(url)
                guard FileOps.isRegularFile(url) else {
                    throw BackupError.verificationFailed(reason: "the bundle file \(url.lastPathComponent) is missing")
                }
                return try verifiedAndStaged(url, expectedSHA: nil, expectedID: nil)
            }
        } catch {
            PreparedRestore.removeExtracted(SourceWorkspace(database: extracted))
            lease.release()
            throw error
        }
    }

    /// Takes the write lock on the live database, the safety backup (unless declined) and the
    /// replacement under that one lock, checks the result, records the outcome in the data
    /// directory, and releases the job lock.
    ///
    /// The lock (`BEGIN IMMEDIATE` on the live database) makes the application's writers wait from
    /// before the safety snapshot until the replacement has committed, so every write the
    /// application saw committed is in the safety backup or was made after the replacement. The
    /// wait for the lock is bounded by the `restore_lock_timeout_seconds` setting; after it the
    /// restore fails with ``BackupError/databaseLocked(seconds:)`` and the database is unchanged.
    /// The outcome (with how long writers waited) is recorded whether the restore succeeded or
    /// failed; a failure before ``RestoreStep/replacing`` leaves the live database as it was.
    ///
    /// - Parameters:
    ///   - beforeLocking: runs right before the wait for the lock (the server enters
    ///     maintenance and drains there).
    ///   - recorded: gets the outcome as soon as it is recorded, a failure's too (which the
    ///     call then throws): the server restarts with it.
    @discardableResult
    public func runRestore(
        _ prepared: PreparedRestore, safetyBackup: Bool = true,
        progress: @escaping @Sendable (RestoreStep) -> Void = { _ in },
        beforeLocking: @Sendable () async -> Void = {},
        recorded: @Sendable (RestoreOutcome) -> Void = { _ in }
    ) async throws(BackupError) -> RestoreOutcome {
        var swap = prepared.swap
        defer {
            // Directories swapped in but not committed (a failure anywhere) go back to their old trees.
            swap?.rollBack()
            PreparedRestore.removeExtracted(prepared.workspace)
            prepared.lease.release()
        }
        var safetyID: String?
        var writersWaited: Int64?
        do throws(BackupError) {
            if Task.isCancelled { throw BackupError.cancelled }
            let timeout = Duration.seconds(try catalog.settings().restoreLockTimeoutSeconds)
            await beforeLocking()
            let hadDatabase: Bool
            switch dataDirectory.location {
            case .sqlite(let database): hadDatabase = FileManager.default.fileExists(atPath: database.path)
            // A server that cannot be reached fails the safety backup, and so the restore.
            case .postgres: hadDatabase = true
            }
            /// The `pre-restore` backup of what is about to be replaced (a full restore: a full
            /// safety backup; the database or the directories alone: that part). None for a
            /// restore into another database: the live one is not touched.
            func takeSafetyBackup() async throws(BackupError) {
                let scope = prepared.scope
                guard safetyBackup, prepared.targetURL == nil, hadDatabase || !scope.includesDatabase else { return }
                let safety = try prepareBackupHoldingLock(
                    type: .preRestore, note: nil, noteKind: .preRestore,
                    noteArgs: prepared.backupID.map { ["backup_id": $0] } ?? [:], scope: scope)
                safetyID = safety.record.id
                try await run(safety) { progress(.safetyBackup($0)) }
            }
            var waited: Duration?
            if prepared.restoresDatabase, case .postgres(let live) = dataDirectory.location {
                let source = PostgresSource(url: prepared.targetURL ?? live, environment: postgresEnvironment)
                try await source.restore(
                    from: prepared.workspace, timeout: timeout, writersWaited: &waited, progress: progress
                ) { () async throws(BackupError) in
                    try await takeSafetyBackup()
                    try swap?.swap()
                    try swap?.prepareCommit()
                }
                // pg_restore committed: the directories' commit point goes in force now.
                if swap != nil { DirectorySwap.placeCommit(in: dataDirectory) }
                try swap?.commit()
            } else if prepared.restoresDatabase {
                do throws(BackupError) {
                    try await SQLiteSource(database: dataDirectory.database).restore(
                        from: prepared.workspace, timeout: timeout, writersWaited: &waited,
                        progress: progress
                    ) { (schemaVersion: Int) async throws(BackupError) in
                        try await takeSafetyBackup()
                        // The directories go in under the same lock, right before the database.
                        try swap?.swap()
                        try swap?.prepareCommit(databaseSchemaVersion: schemaVersion)
                    } afterReplacing: { [dataDirectory, swapping = swap != nil] in
                        // The commit point in force the moment the database commits (one rename).
                        // A crash in between is told apart by the schema cookie the commit raised.
                        RestorePause.reach("database-committed")
                        if swapping { DirectorySwap.placeCommit(in: dataDirectory) }
                    }
                } catch {
                    writersWaited = waited.map(Self.milliseconds)
                    throw error
                }
                try swap?.commit()
            } else {
                try await takeSafetyBackup()
                if Task.isCancelled { throw BackupError.cancelled }
                try swap?.swap()
                // The commit point: from here on a crash finishes the restore instead of undoing it.
                try swap?.commit()
            }
            swap?.removeOldTrees()
            writersWaited = waited.map(Self.milliseconds)
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .succeeded, error: nil,
                safetyBackupID: safetyID, writersWaitedMs: writersWaited)
            try dataDirectory.recordRestore(outcome)
            recorded(outcome)
            return outcome
        } catch {
            let outcome = RestoreOutcome(
                backupID: prepared.backupID, finishedAt: now(), outcome: .failed, error: error.message,
                safetyBackupID: safetyID, writersWaitedMs: writersWaited)
            try? dataDirectory.recordRestore(outcome)
            recorded(outcome)
            throw error
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Records a restore that failed before it started (its bundle did not verify, say).
    func recordFailedRestore(backupID: String?, error: BackupError) {
        try? dataDirectory.recordRestore(
            RestoreOutcome(
                backupID: backupID, finishedAt: now(), outcome: .failed, error: error.message, safetyBackupID: nil))
    }
}
