import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup restore of directories (scopes full and files), as a real process", .serialized)
struct FilesRestoreCLITests {
    let backup = try! ChildProcess(product: "backup")

    /// A data directory with a sample database and an application directory `srv/app/uploads`
    /// holding the sample tree, configured in the settings.
    struct Setup {
        let directory = TemporaryDirectory("cli-files-restore")
        let app = TemporaryDirectory("cli-files-app")
        var uploads: URL { app.url.appendingPathComponent("srv/app/uploads") }
        var database: String { directory.dataDirectory.database.path }

        init(_ backup: ChildProcess) throws {
            try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
            try SampleTree.create(at: uploads)
            let set = try backup.run([
                "settings", "set", "directories=\(uploads.path)", "--data-dir", directory.path,
            ])
            guard set.status == 0 else { throw CocoaError(.featureUnsupported, userInfo: ["stderr": set.stderr]) }
        }

        /// What is beside the application directory besides it.
        func leftovers() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: uploads.deletingLastPathComponent().path)
                .filter { $0 != "uploads" }.sorted()
        }
    }

    func create(_ setup: Setup, scope: String) throws -> BackupInfo {
        let created = try backup.run(["create", "--scope", scope, "--json", "--data-dir", setup.directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        return try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
    }

    static let change = "INSERT INTO ledger(pair, amount) VALUES (7, 3), (7, -3); DELETE FROM account WHERE id > 60"

    @Test(
        "acceptance: settings directories, create --scope full, tar -x shows the tree, change files and rows, restore --yes gives back exactly the tree and the database"
    )
    func acceptance() throws {
        let setup = try Setup(backup)
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        let tree = try TreeFingerprint(setup.uploads)
        let rows = try TestDB.fingerprint(setup.database)
        let info = try create(setup, scope: "full")
        #expect(info.scope == .full)

        // GNU tar shows the tree under files/uploads/ with every file's bytes; the manifest has each sha256.
        let bundle = setup.directory.url.appendingPathComponent("backups/\(info.filename)")
        let out = setup.app.url.appendingPathComponent("untar")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xpzf", bundle.path, "-C", out.path])
        #expect(tar.status == 0, "\(tar.stderr)")
        #expect(try TreeFingerprint(out.appendingPathComponent("files/uploads")) == tree)
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as! [String: Any]
        let entries = manifest["entries"] as! [[String: Any]]
        let deep = try #require(entries.first { $0["path"] as? String == "files/uploads/a/b/c/deep.txt" })
        let sum = try ChildProcess(executablePath: "/usr/bin/sha256sum").run([
            setup.uploads.appendingPathComponent("a/b/c/deep.txt").path
        ])
        #expect(deep["sha256"] as? String == String(sum.stdout.prefix(64)))

        try SampleTree.change(at: setup.uploads)
        try TestDB.execute(setup.database, Self.change)
        #expect(try TreeFingerprint(setup.uploads) != tree)

        let restored = try backup.run(["restore", info.id, "--yes", "--data-dir", setup.directory.path])
        #expect(restored.status == 0, "\(restored.stderr)")
        let now = try TreeFingerprint(setup.uploads)
        #expect(now == tree, "\(now.differences(from: tree))")
        #expect(!FileManager.default.fileExists(atPath: setup.uploads.appendingPathComponent("added").path))
        #expect(try TestDB.fingerprint(setup.database) == rows)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
        #expect(try setup.leftovers() == [], "the old tree is removed, nothing is left beside")
        #expect(
            !FileManager.default.fileExists(
                atPath: setup.directory.url.appendingPathComponent("restore-journal.json").path))
        #expect(setup.directory.temporaryFiles().isEmpty)

        // The safety backup holds what was replaced: the database and the directory.
        let list = try backup.run(["list", "--json", "--type", "pre-restore", "--data-dir", setup.directory.path])
        let safety = try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(list.stdout.utf8))
        #expect(safety.count == 1 && safety.first?.scope == .full)
    }

    @Test(
        "--only files --keep-old restores the directory alone and keeps the old tree; --only database the database alone"
    )
    func onlyAndKeepOld() throws {
        let setup = try Setup(backup)
        let tree = try TreeFingerprint(setup.uploads)
        let rows = try TestDB.fingerprint(setup.database)
        let info = try create(setup, scope: "full")
        try SampleTree.change(at: setup.uploads)
        try TestDB.execute(setup.database, Self.change)
        let changedTree = try TreeFingerprint(setup.uploads)
        let changedRows = try TestDB.fingerprint(setup.database)

        let files = try backup.run([
            "restore", info.id, "--yes", "--only", "files", "--keep-old", "--data-dir", setup.directory.path,
        ])
        #expect(files.status == 0, "\(files.stderr)")
        #expect(try TreeFingerprint(setup.uploads) == tree)
        #expect(try TestDB.fingerprint(setup.database) == changedRows, "--only files leaves the database")
        let kept = setup.uploads.deletingLastPathComponent().appendingPathComponent("uploads.pre-restore-\(info.id)")
        #expect(try setup.leftovers() == [kept.lastPathComponent])
        #expect(try TreeFingerprint(kept) == changedTree)
        #expect(files.stdout.contains(kept.path), "\(files.stdout)")

        // The kept tree is in the way of the same restore with --keep-old again: refused, nothing changed.
        try SampleTree.change(at: setup.uploads)
        let again = try backup.run([
            "restore", info.id, "--yes", "--only", "files", "--data-dir", setup.directory.path,
        ])
        #expect(again.status == 1 && again.stderr.contains("is in the way"), "\(again.stderr)")
        try FileManager.default.removeItem(at: kept)

        let database = try backup.run([
            "restore", info.id, "--yes", "--only", "database", "--data-dir", setup.directory.path,
        ])
        #expect(database.status == 0, "\(database.stderr)")
        #expect(try TestDB.fingerprint(setup.database) == rows)
        #expect(try TreeFingerprint(setup.uploads) != tree, "--only database leaves the directory")
        #expect(try setup.leftovers() == [])
    }

    @Test("a directory of the bundle that is not configured refuses the restore (exit 1), nothing touched")
    func notConfigured() throws {
        let setup = try Setup(backup)
        let info = try create(setup, scope: "files")
        #expect(info.scope == .files)
        let elsewhere = setup.app.url.appendingPathComponent("other/media")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let set = try backup.run([
            "settings", "set", "directories=\(elsewhere.path)", "--data-dir", setup.directory.path,
        ])
        #expect(set.status == 0, "\(set.stderr)")
        try SampleTree.change(at: setup.uploads)
        let changed = try TreeFingerprint(setup.uploads)
        let rows = try TestDB.fingerprint(setup.database)

        let refused = try backup.run(["restore", info.id, "--yes", "--data-dir", setup.directory.path])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("\(setup.uploads.path) is not among the configured directories"),
            "\(refused.stderr)")
        #expect(try TreeFingerprint(setup.uploads) == changed)
        #expect(try TestDB.fingerprint(setup.database) == rows)
        #expect(try setup.leftovers() == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)

        // A files backup holds no database: --only database is a usage error.
        let only = try backup.run([
            "restore", info.id, "--yes", "--only", "database", "--data-dir", setup.directory.path,
        ])
        #expect(only.status == 2 && only.stderr.contains("holds no database"), "\(only.stderr)")
    }

    @Test("an encrypted full bundle (age) restores its directory too: the second read decrypts with the same key")
    func encryptedFullRestore() throws {
        let setup = try Setup(backup)
        let generated = try backup.run(["key", "generate", "--data-dir", setup.directory.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let on = try backup.run(["settings", "set", "encryption.enabled=true", "--data-dir", setup.directory.path])
        #expect(on.status == 0, "\(on.stderr)")
        let tree = try TreeFingerprint(setup.uploads)
        let rows = try TestDB.fingerprint(setup.database)
        let info = try create(setup, scope: "full")
        #expect(info.encrypted && info.filename.hasSuffix(".age"))
        try SampleTree.change(at: setup.uploads)
        try TestDB.execute(setup.database, Self.change)

        let restored = try backup.run(["restore", info.id, "--yes", "--data-dir", setup.directory.path])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try TreeFingerprint(setup.uploads) == tree)
        #expect(try TestDB.fingerprint(setup.database) == rows)
        #expect(try setup.leftovers() == [])
    }
}
