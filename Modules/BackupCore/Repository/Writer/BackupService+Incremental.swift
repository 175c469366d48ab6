import Foundation

extension BackupService {
    /// Writes a prepared incremental backup into the local repository (``RepositoryWriter``),
    /// from the same sources, snapshot and dump as a bundle (``writeSources(_:snapshotURL:spool:server:reporter:write:)``).
    func writeIncremental(
        _ prepared: PreparedBackup, snapshotURL: URL, spool: URL, server: PostgresSource.ServerFacts?,
        reporter: ProgressReporter
    ) async throws(BackupError) -> (firstPhaseBytes: Int64, written: WrittenIncremental) {
        let writer = RepositoryWriter(
            compressionLevel: prepared.compressionLevel, lock: prepared.lock, afterPack: repositoryAfterPack)
        let (root, temporary, catalog, clock) = (dataDirectory.repository, dataDirectory.temporary, catalog, clock)
        return try await writeSources(
            prepared, snapshotURL: snapshotURL, spool: spool, server: server, reporter: reporter
        ) {
            (sources, template, progress) throws(BackupError) in
            try writer.write(
                sources: sources, manifest: template, root: root, temporary: temporary, catalog: catalog, now: clock,
                progress: progress)
        }
    }
}
