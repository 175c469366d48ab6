import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup settings and prune, as a real process")
struct SettingsAndPruneCLITests {
    let backup = try! ChildProcess(product: "backup")

    @Test("settings set validates like the API and persists; settings show prints it")
    func settings() throws {
        let directory = TemporaryDirectory("cli-settings")
        let bad = try backup.run(["settings", "set", "interval_hours=0", "keep_last=-1", "--data-dir", directory.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("interval_hours: must be between 1 and 8760 hours"))
        #expect(bad.stderr.contains("retention.keep_last: must be between 0 and 100000"))
        #expect(try backup.run(["settings", "set", "colour=blue", "--data-dir", directory.path]).status == 2)

        let good = try backup.run([
            "--data-dir", directory.path, "settings", "set", "enabled=true", "interval_hours=6", "keep_daily=7",
            "webhook_url=https://hooks.example.com/x",
        ])
        #expect(good.status == 0, "\(good.stderr)")
        let shown = try backup.run(["settings", "show", "--json", "--data-dir", directory.path])
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(shown.stdout.utf8))
        #expect(settings.enabled)
        #expect(settings.intervalHours == 6)
        #expect(settings.retention.keepDaily == 7)
        #expect(settings.webhookURL == "https://hooks.example.com/x")
        let text = try backup.run(["settings", "show", "--data-dir", directory.path])
        #expect(text.stdout.contains("interval_hours"))
    }

    @Test("a dry run and a settings change move nothing: a stray file stays where it is, no quarantine entry")
    func dryRunMovesNothing() throws {
        let directory = TemporaryDirectory("cli-prune-stray")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        #expect(try backup.run(["create", "--data-dir", directory.path]).status == 0)
        let stray = directory.dataDirectory.backups.appendingPathComponent("operator-notes.txt")
        try Data("left here by hand".utf8).write(to: stray)
        let quarantined = {
            (try? FileManager.default.contentsOfDirectory(atPath: directory.dataDirectory.quarantine.path)) ?? []
        }

        let dryRun = try backup.run(["prune", "--dry-run", "--data-dir", directory.path])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let changed = try backup.run(["settings", "set", "interval_hours=12", "--data-dir", directory.path])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(FileManager.default.fileExists(atPath: stray.path))
        #expect(quarantined().isEmpty)

        // A real job reconciles: the unknown file goes to quarantine, never deleted.
        #expect(try backup.run(["prune", "--data-dir", directory.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stray.path))
        #expect(quarantined() == ["operator-notes.txt"])
    }

    @Test("prune --dry-run reports without deleting; prune deletes what retention does not keep")
    func prune() throws {
        let directory = TemporaryDirectory("cli-prune")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        for _ in 0..<3 { #expect(try backup.run(["create", "--data-dir", directory.path]).status == 0) }
        // Store keep_last 1 straight in the catalog: `settings set` would prune at once.
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        try catalog.saveSettings(
            BackupSettings(retention: RetentionPolicy(keepLast: 1, includeManual: true)), now: Date())

        let dry = try backup.run(["prune", "--dry-run", "--data-dir", directory.path])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("2 would delete"))
        #expect(directory.backupFiles().count == 6)
        let real = try backup.run(["prune", "--data-dir", directory.path])
        #expect(real.stdout.contains("2 deleted"))
        #expect(directory.backupFiles().count == 2)
    }

    @Test("prune reports the repository's garbage collection: null without a repository, what it freed with one")
    func pruneReportsRepository() throws {
        let directory = TemporaryDirectory("cli-prune-repository")
        struct Report: Decodable {
            struct Repository: Decodable, Equatable {
                var packs_deleted: Int
                var packs_repacked: Int
                var bytes_freed: Int64
            }
            var repository: Repository?
        }
        let none = try backup.run(["prune", "--json", "--data-dir", directory.path])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.contains("\"repository\" : null") || none.stdout.contains("\"repository\":null"))

        // A file under a pack's name that no row names and that is no pack: garbage.
        let name = String(repeating: "ab", count: 32)
        let pack = directory.dataDirectory.backups.appendingPathComponent("repository/packs/ab/\(name).pack")
        try FileManager.default.createDirectory(at: pack.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 5000).write(to: pack)

        let dry = try backup.run(["prune", "--dry-run", "--data-dir", directory.path])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("repository: would delete 1 packs, repack 0, free 4.88 KiB"), "\(dry.stdout)")
        #expect(FileManager.default.fileExists(atPath: pack.path))
        let real = try backup.run(["prune", "--json", "--data-dir", directory.path])
        #expect(real.status == 0, "\(real.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(real.stdout.utf8))
        #expect(report.repository == Report.Repository(packs_deleted: 1, packs_repacked: 0, bytes_freed: 5000))
        #expect(!FileManager.default.fileExists(atPath: pack.path))
    }
}
