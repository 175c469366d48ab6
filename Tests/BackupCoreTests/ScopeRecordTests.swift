import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Scopes on the record: list filter, stats per scope, retention per scope, source warnings")
struct ScopeRecordTests {
    /// A completed backup of `scope` recorded `minutesAgo` before `now`.
    static func record(
        _ scope: BackupScope, minutesAgo: Double, type: BackupType = .auto, now: Date = RetentionTests.now
    ) -> BackupRecord {
        let date = now.addingTimeInterval(-minutesAgo * 60)
        var record = BackupRecord(id: BackupID.make(), type: type, createdAt: date, note: nil, scope: scope)
        record.status = .completed
        record.completedAt = date
        record.sizeBytes = 1000
        return record
    }

    @Test("per_scope off: keep_last counts every scope together; on: each scope keeps its own newest N")
    func retentionPerScope() {
        // Newest first: full, files, database, full, files, database, …, nine in all.
        let scopes: [BackupScope] = [.full, .files, .database]
        let backups = (0..<9).map { Self.record(scopes[$0 % 3], minutesAgo: Double($0)) }
        let together = Retention.plan(backups, policy: RetentionPolicy(keepLast: 2), now: RetentionTests.now)
        #expect(Set(together.kept.keys) == Set(backups.prefix(2).map(\.id)))
        #expect(together.deleted == backups.dropFirst(2).map(\.id), "newest first")

        let separately = Retention.plan(
            backups, policy: RetentionPolicy(keepLast: 2, perScope: true), now: RetentionTests.now)
        #expect(Set(separately.kept.keys) == Set(backups.prefix(6).map(\.id)), "two of each scope")
        #expect(separately.deleted == backups.dropFirst(6).map(\.id), "newest first across scopes")
        #expect(separately.kept[backups[1].id] == .newest, "each scope keeps its newest")
    }

    @Test("the list filters by scope; stats count, sum and date each scope")
    func listAndStats() throws {
        let directory = TemporaryDirectory("scope-list")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let database = Self.record(.database, minutesAgo: 30, now: now)
        let files = Self.record(.files, minutesAgo: 20, now: now)
        var failedFull = Self.record(.full, minutesAgo: 10, now: now)
        failedFull.status = .failed
        failedFull.sizeBytes = nil
        for record in [database, files, failedFull] { try service.catalog.insert(record) }

        let onlyFiles = try service.catalog.page(BackupQuery(scope: .files))
        #expect(onlyFiles.items.map(\.id) == [files.id])
        #expect(onlyFiles.items.first?.scope == .files)
        #expect(try service.catalog.page(BackupQuery(scope: .full)).items.map(\.id) == [failedFull.id])
        #expect(try service.catalog.page(BackupQuery()).items.count == 3)

        let stats = try service.stats()
        #expect(stats.scopes["database"] == ScopeStats(count: 1, totalBytes: 1000, lastSuccessAt: database.completedAt))
        #expect(stats.scopes["files"] == ScopeStats(count: 1, totalBytes: 1000, lastSuccessAt: files.completedAt))
        #expect(stats.scopes["full"] == ScopeStats(count: 1, totalBytes: 0, lastSuccessAt: nil))
        let json = String(decoding: try JSONEncoder.backupManager().encode(stats), as: UTF8.self)
        #expect(json.contains(#""full":{"count":1,"last_success_at":null,"total_bytes":0}"#), "\(json)")
    }

    @Test("source warnings: kept on the record and in BackupInfo, capped at 100 plus a count, flagged in warnings")
    func sourceWarnings() throws {
        var record = Self.record(.files, minutesAgo: 1)
        #expect(record.info.warnings.isEmpty && record.info.sourceWarnings.isEmpty)
        let many = (1...130).map { "files/uploads/f\($0): changed while it was read; the copy may be inconsistent" }
        record.sourceWarnings = BackupRecord.capped(many)
        #expect(record.sourceWarnings.count == 101)
        #expect(record.sourceWarnings.last == "… and 30 more")
        #expect(record.info.warnings == [BackupInfo.sourceWarningsCode])

        let directory = TemporaryDirectory("scope-warnings")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        try service.catalog.insert(record)
        let stored = try service.catalog.record(id: record.id)
        #expect(stored.sourceWarnings == record.sourceWarnings && stored.scope == .files)
        let json = String(decoding: try JSONEncoder.backupManager().encode(stored.info), as: UTF8.self)
        #expect(json.contains(#""scope":"files""#) && json.contains(#""source_warnings":["files/uploads/f1: "#))
    }
}
