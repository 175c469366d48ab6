import Foundation
import GRDB

extension Catalog {
    /// The catalog's reads for async callers (request handlers, the job runner): GRDB's async
    /// `read`, which runs on GRDB's own reader queues, so no cooperative thread and no actor
    /// waits on SQLite.
    public var async: AsyncReads { AsyncReads(catalog: self) }

    /// See ``Catalog/async``: the same answers as the synchronous reads of the same names.
    public struct AsyncReads: Sendable {
        let catalog: Catalog

        /// The record with `id`, or ``BackupError/notFound(id:)``.
        public func record(id: String) async throws(BackupError) -> BackupRecord {
            let id = try BackupID.validated(id)
            guard let record = try await read({ db in try BackupRecord.fetchOne(db, key: id) }) else {
                throw .notFound(id: id)
            }
            return record
        }

        /// Every record with `status`, newest first.
        public func records(status: BackupStatus) async throws(BackupError) -> [BackupRecord] {
            try await read { db in
                try BackupRecord.filter(BackupRecord.Columns.status == status)
                    .order(BackupRecord.Columns.createdAt.desc, BackupRecord.Columns.id.desc)
                    .fetchAll(db)
            }
        }

        /// One page of backups, newest first (``Catalog/page(_:)``).
        public func page(_ query: BackupQuery) async throws(BackupError) -> BackupPage {
            let cursor = try Catalog.pageCursor(query)
            let rows = try await read { db in
                try Catalog.fetchPage(db, query: query, cursor: cursor).map { PageRow(record: $0.0, cursorTime: $0.1) }
            }
            return Catalog.page(query, rows: rows.map { ($0.record, $0.cursorTime) })
        }

        /// Counts, totals and history (``Catalog/stats()``).
        public func stats() async throws(BackupError) -> BackupStats {
            try await read { db in try Catalog.fetchStats(db) }
        }

        /// The current settings.
        public func settings() async throws(BackupError) -> BackupSettings {
            try await read { db in try SettingsRecord.fetchOne(db)?.settings ?? BackupSettings() }
        }

        private func read<T: Sendable>(
            _ body: @escaping @Sendable (Database) throws -> T
        ) async throws(BackupError) -> T {
            do { return try await catalog.writer.read(body) } catch { throw Catalog.map(error) }
        }
    }
}

/// A row of ``Catalog/fetchPage(_:query:cursor:)``, sendable out of the read.
private struct PageRow: Sendable {
    var record: BackupRecord
    var cursorTime: String
}
