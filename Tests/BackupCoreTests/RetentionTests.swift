import Foundation
import Testing

@testable import BackupCore

@Suite("Retention policy (pure, fixed dates)")
struct RetentionTests {
    static let berlin: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        return calendar
    }()

    /// A completed backup at `iso` (UTC unless the string says otherwise).
    static func backup(
        _ iso: String, _ type: BackupType = .auto, status: BackupStatus = .completed, pinned: Bool = false
    ) -> BackupRecord {
        let date = ISO8601DateFormatter().date(from: iso)!
        var record = BackupRecord(id: BackupID.make(), type: type, createdAt: date, note: iso)
        record.status = status
        record.pinned = pinned
        return record
    }

    static func kept(_ plan: RetentionPlan, _ backups: [BackupRecord]) -> [String] {
        backups.filter { plan.kept[$0.id] != nil }.map { $0.note! }
    }

    static let now = ISO8601DateFormatter().date(from: "2026-06-15T12:00:00Z")!

    @Test("keep_last keeps the newest N automatic backups")
    func keepLast() {
        let backups = (1...5).map { Self.backup("2026-06-1\($0)T10:00:00Z") }
        let plan = Retention.plan(backups, policy: RetentionPolicy(keepLast: 2), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-14T10:00:00Z", "2026-06-15T10:00:00Z"])
        #expect(plan.deleted.count == 3)
    }

    @Test("keep_days keeps everything younger than D days")
    func keepDays() {
        let backups = ["2026-06-15T09:00:00Z", "2026-06-13T13:00:00Z", "2026-06-13T11:00:00Z", "2026-06-01T00:00:00Z"]
            .map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepDays: 2), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T09:00:00Z", "2026-06-13T13:00:00Z"])
    }

    @Test("keep_daily keeps the newest backup of each of the last N days that have backups")
    func keepDaily() {
        let backups = [
            "2026-06-15T08:00:00Z", "2026-06-15T06:00:00Z", "2026-06-14T20:00:00Z", "2026-06-14T10:00:00Z",
            "2026-06-12T10:00:00Z", "2026-06-11T10:00:00Z",
        ].map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepDaily: 3), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T08:00:00Z", "2026-06-14T20:00:00Z", "2026-06-12T10:00:00Z"])
    }

    @Test("days are the server's time zone's days: 23:30 UTC belongs to the next day in Berlin")
    func dailyInTimeZone() {
        // 2026-06-14T22:30Z is 00:30 on June 15 in Berlin (UTC+2): same day as 08:00Z.
        let backups = ["2026-06-15T08:00:00Z", "2026-06-14T22:30:00Z", "2026-06-14T21:30:00Z"].map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepDaily: 2), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T08:00:00Z", "2026-06-14T21:30:00Z"])
    }

    @Test("across the spring DST change a 23-hour day is still one day")
    func dstSpringForward() {
        // 2026-03-29 in Berlin runs 00:00 CET (23:00Z the day before) to 24:00 CEST (22:00Z).
        let backups = ["2026-03-29T21:30:00Z", "2026-03-28T23:30:00Z", "2026-03-28T22:30:00Z"].map { Self.backup($0) }
        let now = ISO8601DateFormatter().date(from: "2026-03-30T12:00:00Z")!
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepDaily: 2), now: now, calendar: Self.berlin)
        // The first two are both on March 29 (local); the third is on March 28 at 23:30 CET.
        #expect(Self.kept(plan, backups) == ["2026-03-29T21:30:00Z", "2026-03-28T22:30:00Z"])
    }

    @Test("keep_days counts calendar days across the autumn DST change (a 25-hour day)")
    func dstKeepDays() {
        // Now is midnight starting October 26 in Berlin (CET). One calendar day back is midnight
        // starting October 25, still summer time: 22:00Z on the 24th, 25 hours earlier, not 24.
        let now = ISO8601DateFormatter().date(from: "2026-10-25T23:00:00Z")!
        let backups = ["2026-10-25T20:00:00Z", "2026-10-24T22:30:00Z", "2026-10-24T21:30:00Z"].map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepDays: 1), now: now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-10-25T20:00:00Z", "2026-10-24T22:30:00Z"])
        #expect(plan.kept[backups[1].id] == .keepDays)
    }

    @Test("keep_weekly uses ISO weeks (Monday to Sunday), including across a year boundary")
    func keepWeekly() {
        // 2027-01-01 is a Friday in ISO week 53 of 2026, together with Monday 2026-12-28.
        let backups = ["2027-01-03T10:00:00Z", "2026-12-28T10:00:00Z", "2026-12-27T10:00:00Z", "2026-12-20T10:00:00Z"]
            .map { Self.backup($0) }
        let now = ISO8601DateFormatter().date(from: "2027-01-04T12:00:00Z")!
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepWeekly: 2), now: now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2027-01-03T10:00:00Z", "2026-12-27T10:00:00Z"])
    }

    @Test("keep_monthly keeps the newest backup of each of the last N months")
    func keepMonthly() {
        let backups = ["2026-06-10T10:00:00Z", "2026-06-01T10:00:00Z", "2026-05-31T10:00:00Z", "2026-04-02T10:00:00Z"]
            .map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, keepMonthly: 3), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-10T10:00:00Z", "2026-05-31T10:00:00Z", "2026-04-02T10:00:00Z"])
    }

    @Test("rules combine: kept when any rule keeps it")
    func union() {
        let backups = ["2026-06-15T10:00:00Z", "2026-06-14T10:00:00Z", "2026-05-20T10:00:00Z", "2026-05-10T10:00:00Z"]
            .map { Self.backup($0) }
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 1, keepMonthly: 2), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T10:00:00Z", "2026-05-20T10:00:00Z"])
    }

    @Test("pinned backups are always kept; manual ones only count with include_manual")
    func pinsAndManual() {
        let backups = [
            Self.backup("2026-06-15T10:00:00Z"), Self.backup("2026-06-14T10:00:00Z", .manual),
            Self.backup("2026-06-13T10:00:00Z", pinned: true), Self.backup("2026-06-12T10:00:00Z"),
        ]
        let without = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 1), now: Self.now, calendar: Self.berlin)
        #expect(
            Self.kept(without, backups) == ["2026-06-15T10:00:00Z", "2026-06-14T10:00:00Z", "2026-06-13T10:00:00Z"])
        let with = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 1, includeManual: true), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(with, backups) == ["2026-06-15T10:00:00Z", "2026-06-13T10:00:00Z"])
    }

    @Test("the newest completed backup is never deleted, even by rules that keep nothing")
    func newestKept() {
        let backups = [Self.backup("2026-06-15T10:00:00Z", .manual), Self.backup("2026-06-14T10:00:00Z")]
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 0, includeManual: true), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T10:00:00Z"])
        #expect(plan.kept[backups[0].id] == .newest)
    }

    @Test("pre-restore backups keep the newest three")
    func preRestore() {
        let backups = (1...5).map { Self.backup("2026-06-1\($0)T10:00:00Z", .preRestore) }
        let plan = Retention.plan(backups, policy: RetentionPolicy(keepLast: 10), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-13T10:00:00Z", "2026-06-14T10:00:00Z", "2026-06-15T10:00:00Z"])
    }

    @Test("failed and cancelled records go after a week; running jobs and missing records stay")
    func failedRecords() {
        let backups = [
            Self.backup("2026-06-15T10:00:00Z"), Self.backup("2026-06-14T10:00:00Z", status: .failed),
            Self.backup("2026-06-01T10:00:00Z", status: .failed),
            Self.backup("2026-06-01T09:00:00Z", status: .cancelled),
            Self.backup("2026-05-01T09:00:00Z", status: .running),
            Self.backup("2026-05-01T08:00:00Z", status: .missing),
        ]
        let plan = Retention.plan(backups, policy: RetentionPolicy(keepLast: 10), now: Self.now, calendar: Self.berlin)
        #expect(Set(plan.deleted) == [backups[2].id, backups[3].id])
    }

    @Test("retention orders by recorded_at: imports dated 2099 by their bundles do not push out the backups made here")
    func futureDatedImports() {
        let future = ISO8601DateFormatter().date(from: "2099-01-01T00:00:00Z")!
        var forged = (1...2).map { index -> BackupRecord in
            var record = Self.backup("2026-06-1\(index)T10:00:00Z", .imported)
            record.createdAt = future
            return record
        }
        forged[0].note = "forged 1"
        forged[1].note = "forged 2"
        let made = Self.backup("2026-06-15T11:00:00Z", .manual)
        let backups = forged + [made]
        let plan = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 1, includeManual: true), now: Self.now, calendar: Self.berlin)
        #expect(Self.kept(plan, backups) == ["2026-06-15T11:00:00Z"])
        #expect(Set(plan.deleted) == Set(forged.map(\.id)))
        #expect(forged[0].info.warnings == [BackupInfo.createdAtInFuture])
        #expect(made.info.warnings.isEmpty)
    }

    @Test("the backup just made is kept even when every rule would delete it")
    func justMadeKept() {
        let older = Self.backup("2026-06-15T10:00:00Z", .manual)
        var made = Self.backup("2026-06-15T11:00:00Z", .manual)
        // A clock that stepped back: the new record looks older than the previous one.
        made.recordedAt = ISO8601DateFormatter().date(from: "2026-06-14T11:00:00Z")!
        let backups = [older, made]
        let policy = RetentionPolicy(keepLast: 1, includeManual: true)
        let plain = Retention.plan(backups, policy: policy, now: Self.now, calendar: Self.berlin)
        #expect(plain.deleted == [made.id])
        let plan = Retention.plan(backups, policy: policy, now: Self.now, calendar: Self.berlin, justMade: made.id)
        #expect(plan.kept[made.id] == .justMade)
        #expect(plan.deleted.isEmpty)
    }
}
