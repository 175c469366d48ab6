import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("backup settings directories/exclude/default_scope, create --scope, list --scope, as a real process")
struct ScopesCLITests {
    let backup = try! ChildProcess(product: "backup")

    @Test("settings set directories= refuses a bad path (exit 2, naming it) and lists good ones in settings show")
    func settingsDirectories() throws {
        let directory = TemporaryDirectory("cli-scope-settings")
        let outside = TemporaryDirectory("cli-scope-app")
        let uploads = outside.url.appendingPathComponent("uploads").path
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)

        let missing = "\(outside.path)/gone"
        let bad = try backup.run(["settings", "set", "directories=\(uploads),\(missing)", "--data-dir", directory.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("directories[1]: \(missing) does not exist"), "\(bad.stderr)")
        let relative = try backup.run(["settings", "set", "directories=uploads", "--data-dir", directory.path])
        #expect(relative.status == 2)
        #expect(relative.stderr.contains("directories[0]: uploads is not an absolute path"), "\(relative.stderr)")

        let good = try backup.run([
            "settings", "set", "directories=\(uploads)", "exclude=*.tmp,cache/**", "per_scope=true",
            "--data-dir", directory.path,
        ])
        #expect(good.status == 0, "\(good.stderr)")
        let shown = try backup.run(["settings", "show", "--data-dir", directory.path])
        #expect(shown.stdout.contains("directories"))
        #expect(shown.stdout.contains(uploads))
        #expect(shown.stdout.contains("*.tmp,cache/**"))
        #expect(shown.stdout.contains("auto (full)"), "automatic: full once directories are configured")
        let perScope = shown.stdout.split(separator: "\n").first { $0.hasPrefix("retention.per_scope ") }
        #expect(perScope?.hasSuffix(" true") == true, "\(shown.stdout)")
        let json = try backup.run(["settings", "show", "--json", "--data-dir", directory.path])
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(json.stdout.utf8))
        #expect(settings.directories == [uploads] && settings.retention.perScope && settings.defaultScope == nil)
    }

    @Test("create --scope files with no directories is exit 2 and records nothing; --scope database is listed so")
    func createScope() throws {
        let directory = TemporaryDirectory("cli-scope-create")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let refused = try backup.run(["create", "--scope", "files", "--data-dir", directory.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("no directories are configured"), "\(refused.stderr)")
        #expect(try backup.run(["create", "--scope", "everything", "--data-dir", directory.path]).status == 2)

        let made = try backup.run(["create", "--data-dir", directory.path])
        #expect(made.status == 0, "\(made.stderr)")
        let list = try backup.run(["list", "--data-dir", directory.path])
        #expect(list.stdout.contains("SCOPE") && list.stdout.contains("database"), "\(list.stdout)")
        let files = try backup.run(["list", "--scope", "files", "--data-dir", directory.path])
        #expect(files.status == 0 && files.stdout.contains("no backups"), "\(files.stdout)")
        let json = try backup.run(["list", "--json", "--scope", "database", "--data-dir", directory.path])
        let items = try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(json.stdout.utf8))
        #expect(items.count == 1 && items.first?.scope == .database)
    }

    @Test("create --scope full with a directory: the bundle holds both, a FIFO's warning is printed and marked in list")
    func createFull() throws {
        let directory = TemporaryDirectory("cli-scope-full")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let outside = TemporaryDirectory("cli-scope-full-app")
        let uploads = outside.url.appendingPathComponent("uploads")
        try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
        try Data("avatar".utf8).write(to: uploads.appendingPathComponent("a.png"))
        #expect(mkfifo(uploads.appendingPathComponent("pipe").path, 0o644) == 0)
        let set = try backup.run(["settings", "set", "directories=\(uploads.path)", "--data-dir", directory.path])
        #expect(set.status == 0, "\(set.stderr)")

        let made = try backup.run(["create", "--scope", "full", "--data-dir", directory.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("full"), "\(made.stdout)")
        #expect(made.stdout.contains("files/uploads/pipe"), "the warning is printed: \(made.stdout)")
        let list = try backup.run(["list", "--scope", "full", "--data-dir", directory.path])
        #expect(list.stdout.contains("full") && list.stdout.contains("files/uploads/pipe"), "\(list.stdout)")
        let json = try backup.run(["list", "--json", "--data-dir", directory.path])
        let items = try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(json.stdout.utf8))
        let info = try #require(items.first)
        #expect(items.count == 1 && info.scope == .full && info.warnings == [BackupInfo.sourceWarningsCode])

        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        let listing = try ChildProcess(executablePath: "/usr/bin/tar").run(["-tzf", bundle.path])
        #expect(listing.stdout.contains("database.sqlite") && listing.stdout.contains("files/uploads/a.png"))
        let show = try backup.run(["show", info.id, "--data-dir", directory.path])
        #expect(show.stdout.contains("scope     full"), "\(show.stdout)")
        let stats = try backup.run(["stats", "--data-dir", directory.path])
        #expect(stats.stdout.contains("scope full"), "\(stats.stdout)")
    }
}
