import Foundation

/// Which backups retention keeps and which it deletes, with the reason for each kept one.
public struct RetentionPlan: Equatable, Sendable {
    /// Why a backup is kept (the first rule that keeps it).
    public enum Reason: String, Equatable, Sendable {
        case pinned, newest, keepLast, keepDays, daily, weekly, monthly, preRestore
        /// The backup the job that triggered this prune has just made.
        case justMade
        /// A running job works on it (a restore's source while the safety backup prunes).
        case inUse
        /// Its off-site copy is not made yet (pending, uploading or failed): the local bundle is
        /// its only copy.
        case awaitingUpload
        /// The rules do not apply to it (a manual or imported backup without `include_manual`,
        /// or a job still running).
        case notCovered
    }

    public var kept: [String: Reason]
    /// Ids to delete, newest first.
    public var deleted: [String]
}

/// The retention policy as one pure function over the backups and "now".
public enum Retention {
    /// How many `pre-restore` safety backups are kept.
    public static let preRestoreKeep = 3
    /// Failed and cancelled records older than this are cleaned up with their files.
    public static let failedRecordLifetime: TimeInterval = 7 * 24 * 3600

    /// Decides what to keep.
    ///
    /// Every rule orders and ages backups by `recorded_at`, the time this machine's clock gave
    /// when the record entered the catalog, never by `created_at`: an imported bundle's manifest
    /// may say anything (a wrong clock, a forged date in 2099), and a future date must not make
    /// the backups made here look older than it.
    ///
    /// - Completed automatic backups (and manual and imported ones with `include_manual`) are
    ///   kept when any rule keeps them: the newest `keep_last`, those younger than `keep_days`,
    ///   the newest of each of the last `keep_daily` days, `keep_weekly` ISO weeks and
    ///   `keep_monthly` months that have backups (in `calendar`'s time zone).
    /// - Pinned backups and the newest completed backup are always kept.
    /// - `pre-restore` backups keep the newest three.
    /// - Failed and cancelled records older than a week are deleted; `missing` records and
    ///   running jobs are left alone.
    /// - `justMade`, the backup a job has just made, the backups in `inUse` (that a running
    ///   job works on) and those in `awaitingUpload` (whose only copy is the one retention would
    ///   delete) are kept whatever the rules say.
    /// - With `per_scope` (``RetentionPolicy/perScope``), each scope's backups are planned on
    ///   their own, as if the others did not exist: `keep_last` 10 keeps 10 of each, and each
    ///   scope keeps its newest completed backup and three safety backups.
    public static func plan(
        _ backups: [BackupRecord], policy: RetentionPolicy, now: Date, calendar: Calendar = .current,
        justMade: String? = nil, inUse: Set<String> = [], awaitingUpload: Set<String> = []
    ) -> RetentionPlan {
        if policy.perScope {
            var whole = policy
            whole.perScope = false
            var combined = RetentionPlan(kept: [:], deleted: [])
            for scope in BackupScope.allCases {
                let part = plan(
                    backups.filter { $0.scope == scope }, policy: whole, now: now, calendar: calendar,
                    justMade: justMade, inUse: inUse, awaitingUpload: awaitingUpload)
                combined.kept.merge(part.kept) { own, _ in own }
                combined.deleted += part.deleted
            }
            let order = Dictionary(
                uniqueKeysWithValues: backups.sorted { ($0.recordedAt, $0.id) > ($1.recordedAt, $1.id) }.enumerated()
                    .map { ($1.id, $0) })
            combined.deleted.sort { order[$0, default: 0] < order[$1, default: 0] }
            return combined
        }
        var kept: [String: RetentionPlan.Reason] = [:]
        var deleted: [String] = []
        let newestFirst = backups.sorted { ($0.recordedAt, $0.id) > ($1.recordedAt, $1.id) }
        let completed = newestFirst.filter { $0.status == .completed }
        if let justMade, backups.contains(where: { $0.id == justMade }) { kept[justMade] = .justMade }
        for backup in backups where inUse.contains(backup.id) && kept[backup.id] == nil { kept[backup.id] = .inUse }
        for backup in backups where awaitingUpload.contains(backup.id) && kept[backup.id] == nil {
            kept[backup.id] = .awaitingUpload
        }
        if let newest = completed.first, kept[newest.id] == nil { kept[newest.id] = .newest }
        for backup in completed where backup.pinned && kept[backup.id] == nil { kept[backup.id] = .pinned }

        let covered = completed.filter { backup in
            switch backup.type {
            case .auto: true
            case .manual, .imported: policy.includeManual
            case .preRestore: false
            }
        }
        for backup in covered.prefix(max(0, policy.keepLast)) where kept[backup.id] == nil {
            kept[backup.id] = .keepLast
        }
        if policy.keepDays > 0, let cutoff = calendar.date(byAdding: .day, value: -policy.keepDays, to: now) {
            for backup in covered where backup.recordedAt >= cutoff && kept[backup.id] == nil {
                kept[backup.id] = .keepDays
            }
        }
        let buckets: [(Int, RetentionPlan.Reason, (Date) -> [Int])] = [
            (policy.keepDaily, .daily, { day(of: $0, in: calendar) }),
            (policy.keepWeekly, .weekly, { isoWeek(of: $0, in: calendar) }),
            (policy.keepMonthly, .monthly, { month(of: $0, in: calendar) }),
        ]
        for (count, reason, bucket) in buckets where count > 0 {
            var seen: [[Int]] = []
            for backup in covered {
                let key = bucket(backup.recordedAt)
                guard !seen.contains(key) else { continue }
                seen.append(key)
                if kept[backup.id] == nil { kept[backup.id] = reason }
                if seen.count == count { break }
            }
        }
        for backup in covered where kept[backup.id] == nil { deleted.append(backup.id) }

        let safety = completed.filter { $0.type == .preRestore }
        for (index, backup) in safety.enumerated() where kept[backup.id] == nil {
            if index < preRestoreKeep { kept[backup.id] = .preRestore } else { deleted.append(backup.id) }
        }

        let decided = Set(deleted)
        for backup in newestFirst where kept[backup.id] == nil && !decided.contains(backup.id) {
            let ended = backup.status == .failed || backup.status == .cancelled
            if ended, now.timeIntervalSince(backup.recordedAt) > failedRecordLifetime {
                deleted.append(backup.id)
            } else {
                kept[backup.id] = .notCovered
            }
        }
        let order = Dictionary(uniqueKeysWithValues: newestFirst.enumerated().map { ($1.id, $0) })
        deleted.sort { order[$0, default: 0] < order[$1, default: 0] }
        return RetentionPlan(kept: kept, deleted: deleted)
    }

    private static func day(of date: Date, in calendar: Calendar) -> [Int] {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return [parts.year ?? 0, parts.month ?? 0, parts.day ?? 0]
    }

    private static func isoWeek(of date: Date, in calendar: Calendar) -> [Int] {
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = calendar.timeZone
        let parts = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return [parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0]
    }

    private static func month(of date: Date, in calendar: Calendar) -> [Int] {
        let parts = calendar.dateComponents([.year, .month], from: date)
        return [parts.year ?? 0, parts.month ?? 0]
    }
}
