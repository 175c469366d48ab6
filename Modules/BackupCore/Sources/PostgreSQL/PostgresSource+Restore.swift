import Foundation

extension PostgresSource {
    /// Restores the verified dump in `workspace` into ``url``'s database: runs `underLock` first
    /// (the safety backup; PostgreSQL's MVCC needs no lock to take it, so writers never wait
    /// and `writersWaited` stays nil), then `pg_restore --clean --if-exists --no-owner
    /// --single-transaction --exit-on-error`: one transaction, so a failure rolls back and
    /// leaves the old data. Objects created after the backup and not in the dump stay.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: () async throws(BackupError) -> Void
    ) async throws(BackupError) {
        let pgRestore = try PgTool.find("pg_restore", in: environment)
        try await underLock()
        if Task.isCancelled { throw .cancelled }
        progress(.replacing)
        let (url, dump) = (url, workspace.pgdump)
        try await BlockingWork.run { () throws(BackupError) in
            let result = try pgRestore.run(
                [
                    "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", dump.path,
                ], connection: url)
            guard result.succeeded else { throw pgRestore.failure(result, connection: url) }
        }
    }
}
