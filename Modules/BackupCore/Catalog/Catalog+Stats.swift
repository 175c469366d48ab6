import Foundation
import GRDB

/// Totals over the catalog.
public struct BackupStats: Codable, Equatable, Sendable {
    public var count: Int
    public var countsByType: [String: Int]
    public var countsByStatus: [String: Int]
    /// Bytes on disk: the completed backups' local bundles and the incremental repository's packs.
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
    /// The incremental repository's figures (zeros when it holds nothing).
    public var repository = RepositoryStats()

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
        case repository
    }
}

/// The incremental repository in ``BackupStats/repository``: what it stores against what its
/// backups restore to.
public struct RepositoryStats: Codable, Equatable, Sendable {
    /// Pack files in the local repository.
    public var packs: Int
    /// Bytes of those packs (the indexes, each a few hundred KB at most, aside).
    public var storedBytes: Int64
    /// Bytes the completed incremental backups restore to, summed: what full copies would take
    /// before compression.
    public var logicalBytes: Int64
    /// `1 - stored / logical` (0.97: the repository takes 3% of what full copies would); nil
    /// while no incremental backup is complete.
    @ExplicitNull public var savingsRatio: Double?

    public init(packs: Int = 0, storedBytes: Int64 = 0, logicalBytes: Int64 = 0, savingsRatio: Double? = nil) {
        self.packs = packs
        self.storedBytes = storedBytes
        self.logicalBytes = logicalBytes
        self.savingsRatio = savingsRatio
    }

    enum CodingKeys: String, CodingKey {
        case packs
        case storedBytes = "stored_bytes"
        case logicalBytes = "logical_bytes"
        case savingsRatio = "savings_ratio"
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
        let repository = try fetchRepositoryStats(db)
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
            count: byStatus.values.reduce(0, +), countsByType: byType, countsByStatus: byStatus,
            totalBytes: total + repository.storedBytes,
            lastSuccessAt: lastSuccess, lastFailureAt: lastFailure, nextAutoAt: nil, history: history,
            scopes: try fetchScopeStats(db), repository: repository)
    }

    /// The repository's packs and bytes, and what its completed backups restore to.
    static func fetchRepositoryStats(_ db: Database) throws -> RepositoryStats {
        let packs = try Row.fetchOne(
            db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size_bytes), 0) AS bytes FROM repository_pack")
        let logical =
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(logical_bytes), 0) FROM backup
                    WHERE status = 'completed' AND format = 'incremental'
                    """) ?? 0
        let stored: Int64 = packs?["bytes"] ?? 0
        return RepositoryStats(
            packs: packs?["n"] ?? 0, storedBytes: stored, logicalBytes: logical,
            savingsRatio: logical > 0 ? max(0, 1 - Double(stored) / Double(logical)) : nil)
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
