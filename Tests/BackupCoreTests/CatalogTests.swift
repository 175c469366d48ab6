import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Catalog")
struct CatalogTests {
    /// Inserts `count` completed records, one minute apart, alternating manual and auto.
    static func seeded(_ count: Int) throws -> (TemporaryDirectory, Catalog) {
        let directory = TemporaryDirectory("catalog")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        try catalog.write { db in
            for index in 0..<count {
                var record = BackupRecord(
                    id: BackupID.make(), type: index.isMultiple(of: 2) ? .manual : .auto,
                    createdAt: start.addingTimeInterval(Double(index / 2) * 60), note: nil)
                record.status = .completed
                record.sizeBytes = 1000
                try record.insert(db)
            }
        }
        return (directory, catalog)
    }

    @Test("paging through 10,000 records visits each once, newest first, including equal timestamps")
    func keysetPagination() throws {
        let (directory, catalog) = try Self.seeded(10_000)
        defer { withExtendedLifetime(directory) {} }
        var seen: [BackupInfo] = []
        var cursor: String?
        repeat {
            let page = try catalog.page(BackupQuery(limit: 500, cursor: cursor))
            seen += page.items
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen.count == 10_000)
        #expect(Set(seen.map(\.id)).count == 10_000)
        let order = seen.map { ($0.createdAt, $0.id) }
        #expect(zip(order, order.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) })
    }

    @Test("filters by type and status page correctly")
    func filteredPages() throws {
        let (directory, catalog) = try Self.seeded(300)
        defer { withExtendedLifetime(directory) {} }
        let first = try catalog.page(BackupQuery(limit: 100, type: .auto))
        let second = try catalog.page(BackupQuery(limit: 100, cursor: first.nextCursor, type: .auto))
        #expect(first.items.count == 100)
        #expect(second.items.count == 50)
        #expect(second.nextCursor == nil)
        #expect((first.items + second.items).allSatisfy { $0.type == .auto })
        #expect(try catalog.page(BackupQuery(status: .failed)).items.isEmpty)
    }

    @Test(
        "a page is read through an index, with no full scan and no sort",
        arguments: [
            "ORDER BY created_at DESC, id DESC",
            "WHERE type = 'auto' ORDER BY created_at DESC, id DESC",
            "WHERE status = 'completed' ORDER BY created_at DESC, id DESC",
        ])
    func pageUsesIndex(_ clause: String) throws {
        let (directory, catalog) = try Self.seeded(100)
        defer { withExtendedLifetime(directory) {} }
        let plan = try catalog.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM backup \(clause) LIMIT 51")
                .map { $0["detail"] as String }
        }
        #expect(plan.allSatisfy { !$0.contains("TEMP B-TREE") }, "plan: \(plan)")
        #expect(plan.contains { $0.contains("USING INDEX") }, "plan: \(plan)")
    }

    @Test(
        "bad cursors and limits are input errors",
        arguments: ["garbage", "Zm9vfGJhcg", String(repeating: "a", count: 500)])
    func badCursor(_ cursor: String) throws {
        let (directory, catalog) = try Self.seeded(1)
        defer { withExtendedLifetime(directory) {} }
        #expect(throws: BackupError.self) { try catalog.page(BackupQuery(cursor: cursor)) }
        #expect(throws: BackupError.self) { try catalog.page(BackupQuery(limit: 0)) }
        #expect(throws: BackupError.self) { try catalog.page(BackupQuery(limit: 501)) }
    }

    @Test("settings default to off, every 24 hours, keep the last 10, and survive reopening")
    func settingsDefaultsAndPersistence() throws {
        let directory = TemporaryDirectory("catalog-settings")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let defaults = try catalog.settings()
        #expect(defaults.enabled == false)
        #expect(defaults.intervalHours == 24)
        #expect(defaults.retention.keepLast == 10)

        var changed = defaults
        changed.enabled = true
        changed.intervalHours = 6
        changed.webhookURL = "https://hooks.example.com/backup"
        try catalog.saveSettings(changed, now: Date(timeIntervalSince1970: 1_000))
        let reopened = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try reopened.settings() == changed)
        #expect(try reopened.automaticBackupsEnabledAt() == Date(timeIntervalSince1970: 1_000))
    }

    @Test("invalid settings name every bad field")
    func settingsValidation() throws {
        var settings = BackupSettings(enabled: true)
        settings.intervalHours = 0
        settings.retention.keepLast = 0
        settings.retention.keepDays = -1
        settings.compressionLevel = 12
        settings.webhookURL = "ftp://example.com"
        #expect(
            Set(settings.problems.keys) == [
                "interval_hours", "retention.keep_last", "retention.keep_days", "codec", "compression_level",
                "webhook_url",
            ])
        #expect(BackupSettings().problems.isEmpty)
    }

    @Test("stats count by type and status and sum the bytes on disk")
    func stats() throws {
        let (directory, catalog) = try Self.seeded(4)
        defer { withExtendedLifetime(directory) {} }
        let stats = try catalog.stats()
        #expect(stats.count == 4)
        #expect(stats.countsByType["manual"] == 2)
        #expect(stats.countsByType["auto"] == 2)
        #expect(stats.countsByStatus["completed"] == 4)
        #expect(stats.totalBytes == 4000)
    }

    @Test("migration v3: recorded_at of existing rows is their created_at, clamped to the migration time")
    func recordedAtMigration() throws {
        let directory = TemporaryDirectory("catalog-v3")
        try directory.dataDirectory.prepare()
        let migratedAt = Date(timeIntervalSince1970: 1_800_000_000)
        let past = Date(timeIntervalSince1970: 1_700_000_000)
        let future = Date(timeIntervalSince1970: 4_000_000_000)
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: migratedAt).migrate(queue, upTo: "v2: verification outcome")
        let ids = (BackupID.make(), BackupID.make())
        try queue.write { db in
            for (id, created) in [(ids.0, past), (ids.1, future)] {
                try db.execute(
                    sql: """
                        INSERT INTO backup(id, filename, type, status, created_at) VALUES (?, ?, 'imported', 'completed', ?)
                        """, arguments: [id, "backup-\(id).tar.gz", created])
            }
        }
        try queue.close()
        let catalog = try Catalog(url: directory.dataDirectory.catalog, now: migratedAt)
        defer { catalog.close() }
        #expect(try catalog.record(id: ids.0).recordedAt == past)
        #expect(try catalog.record(id: ids.1).recordedAt == migratedAt)
        #expect(try catalog.record(id: ids.1).createdAt == future)
        #expect(try catalog.record(id: ids.1).info.warnings == [BackupInfo.createdAtInFuture])
    }
}
