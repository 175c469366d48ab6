import Foundation
import GRDB

/// Totals over the catalog.
public struct BackupStats: Codable, Equatable, Sendable {
    public var count: Int
    public var countsByType: [String: Int]
    public var countsByStatus: [String: Int]
    /// Bytes of all bundles on disk (completed backups).
    public var totalBytes: Int64
    public var lastSuccessAt: Date?
    public var lastFailureAt: Date?
    /// When the next automatic backup is due; nil when automatic backups are off.
    public var nextAutoAt: Date?

    enum CodingKeys: String, CodingKey {
        case count
        case countsByType = "by_type"
        case countsByStatus = "by_status"
        case totalBytes = "total_bytes"
        case lastSuccessAt = "last_success_at"
        case lastFailureAt = "last_failure_at"
        case nextAutoAt = "next_auto_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        try container.encode(countsByType, forKey: .countsByType)
        try container.encode(countsByStatus, forKey: .countsByStatus)
        try container.encode(totalBytes, forKey: .totalBytes)
        try container.encode(lastSuccessAt, forKey: .lastSuccessAt)
        try container.encode(lastFailureAt, forKey: .lastFailureAt)
        try container.encode(nextAutoAt, forKey: .nextAutoAt)
    }
}

extension Catalog {
    /// Counts by type and status, bytes on disk, and the last success and failure.
    public func stats() throws(BackupError) -> BackupStats {
        try read { db in
            var byType = Dictionary(uniqueKeysWithValues: BackupType.allCases.map { ($0.rawValue, 0) })
            var byStatus = Dictionary(uniqueKeysWithValues: BackupStatus.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT type, status, COUNT(*) AS n FROM backup GROUP BY type, status")
            {
                let count: Int = row["n"]
                byType[row["type"], default: 0] += count
                byStatus[row["status"], default: 0] += count
            }
            let total =
                try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(size_bytes), 0) FROM backup WHERE status = 'completed'") ?? 0
            let lastSuccess = try Date.fetchOne(
                db, sql: "SELECT MAX(completed_at) FROM backup WHERE status = 'completed'")
            let lastFailure = try Date.fetchOne(db, sql: "SELECT MAX(completed_at) FROM backup WHERE status = 'failed'")
            return BackupStats(
                count: byStatus.values.reduce(0, +), countsByType: byType, countsByStatus: byStatus, totalBytes: total,
                lastSuccessAt: lastSuccess, lastFailureAt: lastFailure, nextAutoAt: nil)
        }
    }
}
