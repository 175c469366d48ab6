import Foundation

extension SQLiteSource {
    /// Replaces the live database with the verified copy in `workspace` (the flow of
    /// ``DatabaseReplacer``): takes the write lock on the live database, runs `underLock` (the
    /// safety backup) while the application's writers wait, replaces the content under that one
    /// lock, then runs `PRAGMA integrity_check` on the result.
    ///
    /// - Parameter writersWaited: set to how long the application's writers waited, also when
    ///   the restore fails.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: () async throws(BackupError) -> Void
    ) async throws(BackupError) {
        let replacer = try DatabaseReplacer.open(live: database, copy: workspace.database, timeout: timeout)
        do throws(BackupError) {
            progress(.waitingForLock)
            try await replacer.lock(timeout: timeout)
            try await underLock()
            if Task.isCancelled { throw BackupError.cancelled }
            progress(.replacing)
            try await replacer.replace(timeout: timeout)
            writersWaited = replacer.writersWaited
        } catch {
            await replacer.abandon()
            writersWaited = replacer.writersWaited
            throw error
        }
        await replacer.close()
        if let failure = BundleVerifier.integrityCheck(database) {
            throw BackupError.io(path: database.path, reason: "integrity_check after the restore: \(failure)")
        }
    }
}
