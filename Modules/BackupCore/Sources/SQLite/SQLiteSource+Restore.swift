import Foundation
import GRDB

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
        try await restore(
            from: workspace, timeout: timeout, writersWaited: &writersWaited, progress: progress,
            underLock: { (_: Int) async throws(BackupError) in try await underLock() }, afterReplacing: {})
    }

    /// ``restore(from:timeout:writersWaited:progress:underLock:)``, running `afterReplacing`
    /// the moment the replacement has committed, on the thread that committed it (before the
    /// step returns, the connection closes and the check runs): a restore of directories puts
    /// its commit point in force there. `underLock` gets the live database's schema cookie
    /// (``DatabaseReplacer/schemaVersion()``), which the commit raises.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: (_ schemaVersion: Int) async throws(BackupError) -> Void,
        afterReplacing: @escaping @Sendable () -> Void
    ) async throws(BackupError) {
        let replacer = try DatabaseReplacer.open(live: database, copy: workspace.database, timeout: timeout)
        do throws(BackupError) {
            progress(.waitingForLock)
            try await replacer.lock(timeout: timeout)
            try await underLock(try await replacer.schemaVersion())
            if Task.isCancelled { throw BackupError.cancelled }
            progress(.replacing)
            try await replacer.replace(timeout: timeout, afterCommit: afterReplacing)
            writersWaited = replacer.writersWaited
        } catch {
            await replacer.abandon()
            writersWaited = replacer.writersWaited
            throw error
        }
        await replacer.close()
        if let failure = Self.integrityCheck(live: database, timeout: timeout) {
            throw BackupError.io(path: database.path, reason: "integrity_check after the restore: \(failure)")
        }
    }

    /// `PRAGMA integrity_check` on the live database, waiting up to `timeout` for the
    /// application's writers (in rollback-journal mode a writer's lock keeps readers out for a
    /// moment); nil when it answers "ok".
    static func integrityCheck(live database: URL, timeout: Duration) -> String? {
        do {
            var config = Configuration()
            config.label = "integrity-check"
            config.busyMode = .timeout(TimeInterval(timeout.components.seconds))
            let queue = try DatabaseQueue(path: database.path, configuration: config)
            defer { try? queue.close() }
            let rows = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
            return rows == ["ok"] ? nil : rows.joined(separator: "; ")
        } catch let error as DatabaseError {
            return error.message ?? "\(error.resultCode)"
        } catch {
            return "\(error)"
        }
    }
}
