import Foundation

extension BackupService {
    /// Bytes the sources of `scope` take before compression: the SQLite database with its WAL
    /// (0 when the scope leaves it out, and for PostgreSQL, whose size the run asks the server)
    /// and the configured directories (0 likewise).
    func estimatedBytes(
        scope: BackupScope, settings: BackupSettings
    ) throws(BackupError) -> (database: Int64, files: Int64) {
        var database: Int64 = 0
        if scope.includesDatabase, case .sqlite(let url) = dataDirectory.location {
            database = SQLiteSource(database: url).estimatedBytes()
        }
        guard scope.includesFiles else { return (database, 0) }
        let sources = try directorySources(settings.directories, exclude: settings.exclude)
        return (database, sources.reduce(Int64(0)) { $0 + $1.estimatedBytes() })
    }

    /// One source per configured directory, named uniquely in the order given. A directory
    /// that is gone (or no longer a directory) since it was configured fails the backup before
    /// anything is written, naming it.
    func directorySources(_ directories: [String], exclude: [String]) throws(BackupError) -> [DirectorySource] {
        for path in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .sourceUnavailable(path: path, reason: "the configured directory does not exist")
            }
        }
        return DirectorySource.sources(for: directories, exclude: exclude)
    }

    /// What writes a backup's sources (a bundle, or an incremental backup): called on a
    /// blocking-work thread with the sources and the manifest's template; its progress closure
    /// gets the bytes of source data written so far.
    typealias SourcesWriter<Written> =
        @Sendable ([any BackupSource], Manifest, (Int64) -> Void) throws(BackupError) -> Written

    /// Writes the bundle of a prepared backup (see ``writeSources(_:snapshotURL:spool:server:reporter:write:)``).
    func writeBundle(
        _ prepared: PreparedBackup, snapshotURL: URL, spool: URL, server: PostgresSource.ServerFacts?,
        reporter: ProgressReporter
    ) async throws(BackupError) -> (firstPhaseBytes: Int64, written: WrittenBundle) {
        let (filename, temporary, store) = (prepared.record.filename, dataDirectory.temporary, localStore)
        let writer = BundleWriter(
            codec: prepared.codec, compressionLevel: prepared.compressionLevel, lock: prepared.lock)
        return try await writeSources(
            prepared, snapshotURL: snapshotURL, spool: spool, server: server, reporter: reporter
        ) {
            (sources, template, progress) throws(BackupError) in
            try writer.write(
                sources: sources, manifest: template, filename: filename, temporary: temporary, store: store,
                progress: progress)
        }
    }

    /// Writes the sources of a prepared backup with `write`: with a SQLite database in its scope,
    /// inside a pinned snapshot (the snapshot phase, then the database and the directories); with a
    /// PostgreSQL one, `pg_dump` into `spool` (described by `server`), then the dump and the
    /// directories, all on a blocking-work thread; without a database, the directories alone
    /// there. Returns the bytes of the first phase (the snapshot's or the dump's; 0 without the
    /// database) and what `write` returned.
    func writeSources<Written: Sendable>(
        _ prepared: PreparedBackup, snapshotURL: URL, spool: URL, server: PostgresSource.ServerFacts?,
        reporter: ProgressReporter, write: @escaping SourcesWriter<Written>
    ) async throws(BackupError) -> (firstPhaseBytes: Int64, written: Written) {
        let record = prepared.record
        let template = Manifest(id: record.id, type: record.type, createdAt: record.createdAt)
        let database = dataDirectory.database
        let files: [any BackupSource] =
            prepared.scope.includesFiles ? try directorySources(prepared.directories, exclude: prepared.exclude) : []
        let filesBytes = prepared.filesEstimatedBytes
        guard prepared.scope.includesDatabase else {
            let written = try await BlockingWork.run { () throws(BackupError) in
                try write(files, template) { bytes in
                    reporter.report(
                        phase: .compress, done: bytes, total: filesBytes, phaseDone: bytes, phaseTotal: filesBytes)
                }
            }
            return (0, written)
        }
        if case .postgres(let url) = dataDirectory.location {
            guard let server else { throw .io(path: url.redacted, reason: "the server was not asked before the dump") }
            let source = PostgresSource(url: url, environment: postgresEnvironment)
            return try await BlockingWork.run { () throws(BackupError) in
                let estimate = server.databaseSize
                let dumped = try source.dump(to: spool, server: server) { bytes in
                    // The estimate is the total until the dump outgrows it.
                    let expected = max(estimate, bytes)
                    reporter.report(
                        phase: .snapshot, done: bytes, total: 2 * expected + filesBytes, phaseDone: bytes,
                        phaseTotal: expected)
                }
                let dumpBytes = dumped.estimatedBytes()
                let written = try write([dumped] + files, template) { bytes in
                    reporter.report(
                        phase: .compress, done: dumpBytes + bytes, total: 2 * dumpBytes + filesBytes,
                        phaseDone: bytes, phaseTotal: dumpBytes + filesBytes)
                }
                FileOps.removeIfPresent(spool)
                return (dumpBytes, written)
            }
        }
        // The snapshot phase is the copy, when one is needed: reading in place skips it.
        let (snapshot, written) = try await snapshotEngine.withSnapshot(
            source: database, scratch: snapshotURL,
            progress: { step in
                reporter.report(
                    phase: .snapshot, done: step.bytesDone, total: 2 * step.byteCount + filesBytes,
                    phaseDone: step.bytesDone, phaseTotal: step.byteCount, pagesDone: step.pagesDone,
                    pageCount: step.pageCount)
            }
        ) { (view) throws(BackupError) in
            let source = SQLiteSource(database: database, snapshot: (view.reader, view.result))
            let written = try write([source] + files, template) { bytes in
                reporter.report(
                    phase: .compress, done: view.byteCount + bytes, total: 2 * view.byteCount + filesBytes,
                    phaseDone: bytes, phaseTotal: view.byteCount + filesBytes)
            }
            return (view.result, written)
        }
        return (snapshot.byteCount, written)
    }
}
