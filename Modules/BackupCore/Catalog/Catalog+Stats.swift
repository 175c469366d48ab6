import Foundation
import GRDB

/// Totals over the catalog.
public struct BackupStats: Codable, Equatable, Sendable {
    public var count: Int
    public var countsByType: [String: Int]
    public var countsByStatus: [String: Int]
    /// Bytes of all bundles on disk (completed backups).
    public var totalBytes: Int64
    @ExplicitNull public var lastSuccessAt: Date?
    @ExplicitNull public var lastFailureAt: Date?
    /// When the next automatic backup is due; nil when automatic backups are off.
    @ExplicitNull public var nextAutoAt: Date?
    /// The newest finished backups (at most ``BackupStats/historyLimit``), newest first: what a
    /// chart of recent sizes, durations and failures needs.
    public var history: [BackupHistoryEntry]
    /// The last retention run that could not delete everything it should (after a job, a
    /// settings change or `prune`); nil once a later run succeeds.
    @ExplicitNull public var lastRetentionFailure: RetentionFailure? = nil
    /// The figures of each scope (`database`, `files`, `full`), every scope present.
    public var scopes: [String: ScopeStats] = [:]

    /// How many backups ``history`` holds at most.
    public static let historyLimit = 30

    enum CodingKeys: String, CodingKey {
        case count
        case countsByType = "by_type"
        case countsByStatus = "by_status"
        case totalBytes = "total_bytes"
        case lastSuccessAt = "last_success_at"
        case lastFailureAt = "last_failure_at"
        case nextAutoAt = "next_auto_at"
        case history
        case lastRetentionFailure = "last_retention_failure"
        case scopes
    }
}

/// One scope's figures in ``BackupStats/scopes``.
public struct ScopeStats: Codable, Equatable, Sendable {
    /// Backups of the scope, whatever their status.
    public var count: Int
    /// Bytes of the scope's completed bundles on disk.
    public var totalBytes: Int64
    /// When the scope's newest successful backup completed; nil when it has none.
    @ExplicitNull public var lastSuccessAt: Date?

    public init(count: Int = 0, totalBytes: Int64 = 0, lastSuccessAt: Date? = nil) {
        self.count = count
        self.totalBytes = totalBytes
        self.lastSuccessAt = lastSuccessAt
    }

    enum CodingKeys: String, CodingKey {
        case count
        case totalBytes = "total_bytes"
        case lastSuccessAt = "last_success_at"
    }
}

/// One finished backup in ``BackupStats/history``.
public struct BackupHistoryEntry: Codable, Equatable, Sendable, FetchableRecord {
    public var id: String
    public var createdAt: Date
    public var status: BackupStatus
    /// The bundle's size; nil when none was written (a failed or cancelled backup).
    @ExplicitNull public var sizeBytes: Int64?
    /// How long the backup took; nil when it never completed.
    @ExplicitNull public var durationMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case createdAt = "created_at"
        case status
        case sizeBytes = "size_bytes"
        case durationMs = "duration_ms"
    }
}

extension Catalog {
    /// Counts by type and status, bytes on disk, the last success and failure, and the history
    /// of the newest finished backups.
    public func stats() throws(BackupError) -> BackupStats {
        try read { db in try Self.fetchStats(db) }
    }

    /// ``stats()`` inside a read.
    static func fetchStats(_ db: Database) throws -> BackupStats {
        var byType = Dictionary(uniqueKeysWithValues: BackupType.allCases.map { ($0.rawValue, 0) })
        var byStatus = Dictionary(uniqueKeysWithValues: BackupStatus.allCases.map { ($0.rawValue, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT type, status, COUNT(*) AS n FROM backup GROUP BY type, status") {
            let count: Int = row["n"]
            byType[row["type"], default: 0] += count
            byStatus[row["status"], default: 0] += count
        }
        let total =
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(size_bytes), 0) FROM backup WHERE status = 'completed' AND store = 'local'
                    """) ?? 0
        let lastSuccess = try Date.fetchOne(
            db, sql: "SELECT MAX(completed_at) FROM backup WHERE status = 'completed'")
        let lastFailure = try Date.fetchOne(db, sql: "SELECT MAX(completed_at) FROM backup WHERE status = 'failed'")
        let history = try BackupHistoryEntry.fetchAll(
            db,
            sql: """
                SELECT id, created_at, status, size_bytes, duration_ms FROM backup
                WHERE status NOT IN ('pending', 'running')
                ORDER BY created_at DESC, id DESC LIMIT ?
                """, arguments: [BackupStats.historyLimit])
        return BackupStats(
            count: byStatus.values.reduce(0, +), countsByType: byType, countsByStatus: byStatus, totalBytes: total,
            lastSuccessAt: lastSuccess, lastFailureAt: lastFailure, nextAutoAt: nil, history: history,
            scopes: try fetchScopeStats(db))
    }

    /// Each scope's count, bytes on disk and last success (every scope present, zero when none).
    static func fetchScopeStats(_ db: Database) throws -> [String: ScopeStats] {
        var scopes = Dictionary(uniqueKeysWithValues: BackupScope.allCases.map { ($0.rawValue, ScopeStats()) })
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT scope, COUNT(*) AS n,
                  COALESCE(SUM(CASE WHEN status = 'completed' AND store = 'local' THEN size_bytes END), 0) AS bytes,
                  MAX(CASE WHEN status = 'completed' THEN completed_at END) AS last_success
                FROM backup GROUP BY scope
                """)
        for row in rows {
            scopes[row["scope"]] = ScopeStats(
                count: row["n"], totalBytes: row["bytes"], lastSuccessAt: row["last_success"] as Date?)
        }
        return scopes
    }
}
