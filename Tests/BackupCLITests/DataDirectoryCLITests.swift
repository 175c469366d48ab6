import BackupCore
import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("read commands on a missing or read-only data directory, as a real process")
struct DataDirectoryCLITests {
    let backup = try! ChildProcess(product: "backup")

    /// The error object `--json` prints, and nothing else.
    struct ErrorBody: Decodable, Equatable {
        struct Detail: Decodable, Equatable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    @Test("read commands on a data directory that does not exist exit 1 naming it and --data-dir, and create nothing")
    func missingDataDirectory() throws {
        let parent = TemporaryDirectory("cli-no-data")
        let missing = parent.url.appendingPathComponent("data").path
        let commands: [[String]] = [
            ["list"], ["show", "0123456789abcdef"], ["stats"], ["verify", "--all"], ["verify", "0123"],
            ["restore", "0123456789abcdef", "--yes"], ["settings", "show"], ["prune", "--dry-run"],
            ["delete", "0123", "--yes"], ["pin", "0123"],
        ]
        for command in commands {
            let text = try backup.run(command + ["--data-dir", missing])
            #expect(text.status == 1, "\(command): \(text.stderr)")
            #expect(text.stdout.isEmpty, "\(command)")
            #expect(
                text.stderr.hasPrefix("error: there is no data directory at \(missing);"), "\(command): \(text.stderr)")
            #expect(text.stderr.contains("--data-dir") && text.stderr.contains("BACKUP_DATA_DIR"), "\(command)")
            #expect(text.stderr.split(separator: "\n").count == 1, "\(command): \(text.stderr)")

            let json = try backup.run(command + ["--data-dir", missing, "--json"])
            #expect(json.status == 1, "\(command)")
            #expect(json.stderr.isEmpty, "\(command): \(json.stderr)")
            let body = try JSONDecoder().decode(ErrorBody.self, from: Data(json.stdout.utf8))
            #expect(body.error.code == "data_directory_missing", "\(command)")
            #expect(body.error.message.contains(missing), "\(command)")

            #expect(!FileManager.default.fileExists(atPath: missing), "\(command) created the data directory")
        }
        let viaEnvironment = try backup.run(["list"], environment: ["BACKUP_DATA_DIR": missing])
        #expect(viaEnvironment.status == 1 && viaEnvironment.stderr.contains(missing))
        #expect(!FileManager.default.fileExists(atPath: missing))

        // create may start a data directory; then the read commands find it.
        let database = parent.url.appendingPathComponent("app.sqlite")
        _ = try SampleDatabase.create(at: database, megabytes: 1)
        let created = try backup.run(["create", "--data-dir", missing, "--database", database.path])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try backup.run(["list", "--data-dir", missing]).status == 0)
    }

    @Test("an existing data directory without a catalog lists no backups and is left untouched")
    func dataDirectoryWithoutCatalog() throws {
        let directory = TemporaryDirectory("cli-no-catalog")
        let list = try backup.run(["list", "--data-dir", directory.path])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "no backups\n")
        let settings = try backup.run(["settings", "show", "--json", "--data-dir", directory.path])
        #expect(settings.status == 0, "\(settings.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    /// Runs `backup` as a user without write access: `nobody` when the tests run as root (root
    /// ignores file modes), else the current user. `nobody` runs a copy of the binary in a
    /// temporary folder, since the checkout may sit where only root can enter (/root).
    func runWithoutWriteAccess(_ arguments: [String], binaries: TemporaryDirectory) throws -> ChildProcess.Result {
        guard geteuid() == 0 else { return try backup.run(arguments) }
        let copy = binaries.url.appendingPathComponent("backup")
        if !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.copyItem(at: backup.executable, to: copy)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binaries.path)
        }
        return try ChildProcess(executablePath: "/usr/sbin/runuser").run(
            ["-u", "nobody", "--", copy.path] + arguments)
    }

    /// Makes a tree readable and not writable for everyone: directories r-x, files r--.
    func makeReadOnly(_ root: URL) throws {
        let manager = FileManager.default
        for name in try manager.subpathsOfDirectory(atPath: root.path) {
            let path = root.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
            try manager.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o555 : 0o444], ofItemAtPath: path)
        }
        try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: root.path)
    }

    @Test("list, show and stats work on a read-only data directory and write nothing")
    func readOnlyDataDirectory() throws {
        let directory = TemporaryDirectory("cli-read-only")
        _ = try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        try makeReadOnly(directory.url)
        let before = try FileManager.default.subpathsOfDirectory(atPath: directory.path).sorted()
        let binaries = TemporaryDirectory("cli-read-only-bin")

        let list = try runWithoutWriteAccess(["list", "--json", "--data-dir", directory.path], binaries: binaries)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stderr.isEmpty)
        let listed = try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(list.stdout.utf8))
        #expect(listed.map(\.id) == [info.id])
        let table = try runWithoutWriteAccess(["list", "--data-dir", directory.path], binaries: binaries)
        #expect(table.status == 0 && table.stdout.contains(info.id), "\(table.stderr)")
        let show = try runWithoutWriteAccess(
            ["show", info.id, "--json", "--data-dir", directory.path], binaries: binaries)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(show.stdout.utf8)) == info)
        let stats = try runWithoutWriteAccess(["stats", "--json", "--data-dir", directory.path], binaries: binaries)
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(try JSONDecoder.backupManager().decode(BackupStats.self, from: Data(stats.stdout.utf8)).count == 1)
        let settings = try runWithoutWriteAccess(
            ["settings", "show", "--data-dir", directory.path], binaries: binaries)
        #expect(settings.status == 0, "\(settings.stderr)")

        #expect(try FileManager.default.subpathsOfDirectory(atPath: directory.path).sorted() == before)
    }

    @Test("on a read-only data directory whose catalog a writer holds open, reads see the writer's latest commit")
    func readOnlyBesideAWriter() throws {
        let directory = TemporaryDirectory("cli-read-only-wal")
        _ = try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        try makeReadOnly(directory.url)

        // A writer (as a server would be) keeps the catalog open: its -wal and -shm exist and
        // its last commit is still in the WAL.
        let writer = try DatabasePool(path: directory.dataDirectory.catalog.path)
        try writer.write { db in
            try db.execute(sql: "UPDATE backup SET note = 'written by the server' WHERE id = ?", arguments: [info.id])
        }
        #expect(FileManager.default.fileExists(atPath: directory.dataDirectory.catalog.path + "-shm"))

        let binaries = TemporaryDirectory("cli-read-only-wal-bin")
        let arguments = ["show", String(info.id.prefix(8)), "--json", "--data-dir", directory.path]
        let show = try runWithoutWriteAccess(arguments, binaries: binaries)
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(show.stdout.utf8))
        #expect(shown.note == "written by the server")
        try writer.close()
    }
}
