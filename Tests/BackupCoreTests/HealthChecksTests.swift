import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("HealthChecks: backup doctor's findings, read-only")
struct HealthChecksTests {
    static func check(_ name: String, in checks: [HealthCheck]) throws -> HealthCheck {
        try #require(checks.first { $0.name == name }, "\(checks.map(\.name))")
    }

    @Test("the last success against the interval: ok, warn past 1.5 intervals, fail past 2 (an injected clock)")
    func lastSuccessAgainstInterval() async throws {
        let directory = TemporaryDirectory("health-schedule")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var settings = try service.settings()
        settings.enabled = true
        settings.intervalHours = 2
        _ = try service.saveSettings(settings)
        let made = try await service.createBackup()
        service.catalog.close()
        let madeAt = made.createdAt
        func status(after hours: Double) async throws -> HealthCheck.Status {
            let checks = try await HealthChecks(
                dataDirectory: directory.dataDirectory, now: { madeAt.addingTimeInterval(hours * 3600) }
            ).run()
            return try Self.check("last-success", in: checks).status
        }
        let (soon, late, later) = (
            try await status(after: 1), try await status(after: 3.5), try await status(after: 4.5)
        )
        #expect(soon == .ok)
        #expect(late == .warn)
        #expect(later == .fail)
    }

    @Test("free space against an incremental backup: its snapshot counts, not only the few bytes it added")
    func freeSpaceForIncremental() async throws {
        let directory = TemporaryDirectory("health-incremental")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var settings = try service.settings()
        settings.format = .incremental
        _ = try service.saveSettings(settings)
        _ = try await service.createBackup()
        let second = try await service.createBackup()
        service.catalog.close()
        let databaseBytes = try #require(FileOps.size(of: directory.dataDirectory.database))
        let added = try #require(second.sizeBytes)
        #expect(added < databaseBytes / 10, "an unchanged database adds its index alone")
        let need = try #require(SpaceNeed(second))
        #expect(need.bytes >= databaseBytes && need.bytes == (second.logicalBytes ?? 0) + added)
        let check = try Self.check(
            "free-space", in: try await HealthChecks(dataDirectory: directory.dataDirectory).run())
        #expect(check.detail.contains("snapshot of \(ByteCount.format(second.logicalBytes ?? 0))"), "\(check)")
    }

    @Test("a rollback-journal SQLite database is a warning; a database that is not there fails; nothing is created")
    func databaseChecks() async throws {
        let directory = TemporaryDirectory("health-database")
        let queue = try DatabaseQueue(path: directory.dataDirectory.database.path)
        try await queue.write { db in try db.execute(sql: "CREATE TABLE t(x); INSERT INTO t VALUES (1)") }
        try queue.close()
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let rollback = try Self.check(
            "database", in: try await HealthChecks(dataDirectory: directory.dataDirectory).run())
        #expect(rollback.status == .warn && rollback.fix?.contains("journal_mode=WAL") == true, "\(rollback)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == before)

        try FileManager.default.removeItem(at: directory.dataDirectory.database)
        let missing = try Self.check(
            "database", in: try await HealthChecks(dataDirectory: directory.dataDirectory).run())
        #expect(missing.status == .fail && missing.detail.contains("does not exist"), "\(missing)")
    }

    @Test("a group-writable data directory fails; a world-readable one warns; a passphrase file others read fails")
    func modes() async throws {
        let directory = TemporaryDirectory("health-modes")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try FileManager.default.setAttributes([.posixPermissions: 0o775], ofItemAtPath: directory.path)
        var checks = try await HealthChecks(dataDirectory: directory.dataDirectory).run()
        #expect(try Self.check("data-directory", in: checks).status == .fail)
        #expect(!checks.healthy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        checks = try await HealthChecks(dataDirectory: directory.dataDirectory).run()
        #expect(try Self.check("data-directory", in: checks).status == .warn)
        #expect(checks.healthy)

        let passphrase = directory.url.appendingPathComponent("passphrase")
        try Data("a long passphrase\n".utf8).write(to: passphrase)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passphrase.path)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var settings = try service.settings()
        settings.encryption.passphraseFile = passphrase.path
        _ = try service.saveSettings(settings)
        service.catalog.close()
        checks = try await HealthChecks(dataDirectory: directory.dataDirectory).run()
        #expect(try Self.check("passphrase-file", in: checks).status == .ok)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: passphrase.path)
        checks = try await HealthChecks(dataDirectory: directory.dataDirectory).run()
        let file = try Self.check("passphrase-file", in: checks)
        #expect(file.status == .fail && file.fix == "chmod 600 \(passphrase.path)", "\(file)")
    }
}
