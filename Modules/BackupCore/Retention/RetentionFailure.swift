import Foundation
import GRDB

/// The last retention run that could not delete everything it should have: kept in the catalog
/// and shown in the stats (API, CLI, page) until a later run succeeds, so a failure after a job,
/// where nobody waits for an answer, is never silent.
public struct RetentionFailure: Codable, Equatable, Sendable, FetchableRecord {
    static let databaseTableName = "retention_failure"

    /// When the run failed.
    public var failedAt: Date
    /// What went wrong (the first backup it could not delete, and why).
    public var error: String

    public init(failedAt: Date, error: String) {
        self.failedAt = failedAt
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case failedAt = "failed_at"
        case error
    }
}

extension Catalog {
    /// The last retention failure, or nil when the last run succeeded (or none ever failed).
    public func retentionFailure() throws(BackupError) -> RetentionFailure? {
        try read { db in try RetentionFailure.fetchOne(db, sql: "SELECT failed_at, error FROM retention_failure") }
    }

    /// Remembers a retention failure (replacing an older one), or forgets it after a run that
    /// deleted everything it should (nil).
    func setRetentionFailure(_ failure: RetentionFailure?) throws(BackupError) {
        guard let failure else {
            // Only a write when there is something to forget: a catalog change wakes every watcher.
            if try retentionFailure() != nil {
                _ = try write { db in try db.execute(sql: "DELETE FROM retention_failure") }
            }
            return
        }
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO retention_failure(id, failed_at, error) VALUES (1, ?, ?)",
                arguments: [failure.failedAt, failure.error])
        }
    }
}
