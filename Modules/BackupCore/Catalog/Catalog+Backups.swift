import Foundation
import GRDB

extension Catalog {
    /// Adds a new record.
    public func insert(_ record: BackupRecord) throws(BackupError) {
        try write { db in try record.insert(db) }
    }

    /// Replaces a record with `record` (same id).
    public func update(_ record: BackupRecord) throws(BackupError) {
        try write { db in try record.update(db) }
    }

    /// The record with `id`, or ``BackupError/notFound(id:)``.
    public func record(id: String) throws(BackupError) -> BackupRecord {
        let id = try BackupID.validated(id)
        guard let record = try read({ db in try BackupRecord.fetchOne(db, key: id) }) else {
            throw .notFound(id: id)
        }
        return record
    }

    /// Stores a running job's progress.
    public func setProgress(id: String, doneBytes: Int64, totalBytes: Int64) throws(BackupError) {
        _ = try write { db in
            try BackupRecord.filter(key: id).updateAll(
                db, BackupRecord.Columns.doneBytes.set(to: doneBytes),
                BackupRecord.Columns.totalBytes.set(to: totalBytes))
        }
    }

    /// Stores the outcome of a verification.
    public func recordVerification(id: String, at date: Date, error: String?) throws(BackupError) {
        _ = try write { db in
            try BackupRecord.filter(key: id).updateAll(
                db, BackupRecord.Columns.verifiedAt.set(to: date), BackupRecord.Columns.verificationError.set(to: error)
            )
        }
    }

    /// Stores what `record`'s bundle holds (its scope and source warnings), read from its manifest.
    public func recordContents(of record: BackupRecord) throws(BackupError) {
        _ = try write { db in
            try BackupRecord.filter(key: record.id).updateAll(
                db, BackupRecord.Columns.scope.set(to: record.scope),
                BackupRecord.Columns.sourceWarnings.set(to: Self.json(record.sourceWarnings)))
        }
    }

    private static func json(_ values: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(values), as: UTF8.self)) ?? "[]"
    }

    /// Marks a backup whose bundle is gone `missing`, with `reason` as its error and as the
    /// outcome of its verification at `date`.
    public func markMissing(id: String, reason: String, at date: Date) throws(BackupError) {
        _ = try write { db in
            try BackupRecord.filter(key: id).updateAll(
                db, BackupRecord.Columns.status.set(to: BackupStatus.missing),
                BackupRecord.Columns.error.set(to: reason),
                BackupRecord.Columns.verifiedAt.set(to: date), BackupRecord.Columns.verificationError.set(to: reason))
        }
    }

    /// Changes a backup's note (validated by ``BackupNote``; nil clears it) and pin.
    public func annotate(id: String, note: String??, pinned: Bool?) throws(BackupError) -> BackupRecord {
        var record = try record(id: id)
        if let note { record.note = try BackupNote.validated(note) }
        if let pinned { record.pinned = pinned }
        try update(record)
        return record
    }

    /// Removes a record; a missing one is not an error.
    public func deleteRecord(id: String) throws(BackupError) {
        _ = try write { db in try BackupRecord.deleteOne(db, key: id) }
    }

    /// Marks every `pending`/`running` record failed with `reason`. Only the holder of the job
    /// lock may call this: then no live process owns such a record.
    @discardableResult
    public func failActiveRecords(reason: String, now: Date) throws(BackupError) -> Int {
        try write { db in
            try BackupRecord
                .filter([BackupStatus.pending, .running].contains(BackupRecord.Columns.status))
                .updateAll(
                    db, BackupRecord.Columns.status.set(to: BackupStatus.failed),
                    BackupRecord.Columns.error.set(to: reason), BackupRecord.Columns.completedAt.set(to: now))
        }
    }

    /// Every record, newest first.
    public func allRecords() throws(BackupError) -> [BackupRecord] {
        try read { db in
            try BackupRecord.order(BackupRecord.Columns.createdAt.desc, BackupRecord.Columns.id.desc).fetchAll(db)
        }
    }

    /// Every record with `status`, newest first.
    public func records(status: BackupStatus) throws(BackupError) -> [BackupRecord] {
        try read { db in
            try BackupRecord.filter(BackupRecord.Columns.status == status)
                .order(BackupRecord.Columns.createdAt.desc, BackupRecord.Columns.id.desc)
                .fetchAll(db)
        }
    }

    /// One page of backups, newest first, by keyset pagination on (created_at, id).
    public func page(_ query: BackupQuery) throws(BackupError) -> BackupPage {
        let cursor = try Self.pageCursor(query)
        return Self.page(query, rows: try read { db in try Self.fetchPage(db, query: query, cursor: cursor) })
    }

    /// The query's cursor, once its limit is checked.
    static func pageCursor(_ query: BackupQuery) throws(BackupError) -> PageCursor? {
        guard (1...BackupQuery.maximumLimit).contains(query.limit) else {
            throw .invalidQuery(parameter: "limit", reason: "must be between 1 and \(BackupQuery.maximumLimit)")
        }
        return try query.cursor.map { (text) throws(BackupError) in try PageCursor(decoding: text) }
    }

    /// Up to `query.limit + 1` rows after `cursor`, each with its cursor time.
    static func fetchPage(_ db: Database, query: BackupQuery, cursor: PageCursor?) throws -> [(BackupRecord, String)] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let type = query.type {
            conditions.append("type = ?")
            arguments += [type.rawValue]
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let scope = query.scope {
            conditions.append("scope = ?")
            arguments += [scope.rawValue]
        }
        if let cursor {
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            arguments += [cursor.createdAt, cursor.createdAt, cursor.id]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT *, created_at AS cursor_time FROM backup \(whereClause)
            ORDER BY created_at DESC, id DESC LIMIT \(query.limit + 1)
            """
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            (try BackupRecord(row: row), row["cursor_time"] as String)
        }
    }

    /// The page that `rows` (from ``fetchPage(_:query:cursor:)``) make.
    static func page(_ query: BackupQuery, rows: [(BackupRecord, String)]) -> BackupPage {
        let items = rows.prefix(query.limit)
        let next = rows.count > query.limit ? items.last.map { PageCursor(createdAt: $0.1, id: $0.0.id).encoded } : nil
        return BackupPage(items: items.map(\.0.info), nextCursor: next)
    }
}
