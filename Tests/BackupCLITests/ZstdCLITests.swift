import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    /// An empty directory under `directory`.
    private func folder(_ name: String, in directory: TemporaryDirectory) throws -> URL {
        let url = directory.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(
        "codec=zstd: a .tar.zst bundle that zstd, tar --zstd and sha256sum open; verify, import and restore take it, even named .tar.gz"
    )
    func zstdBundle() throws {
        let directory = TemporaryDirectory("cli-zstd")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let set = try backup.run([
            "settings", "set", "codec=zstd", "compression_level=3", "--data-dir", directory.path, "--json",
        ])
        #expect(set.status == 0, "\(set.stderr)")
        let settings = try json(BackupSettings.self, set)
        #expect(settings.codec == .zstd && settings.compressionLevel == 3)

        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        #expect(info.status == .completed)
        #expect(info.filename.hasPrefix("backup-") && info.filename.hasSuffix("-manual-\(info.id).tar.zst"))
        let backups = directory.url.appendingPathComponent("backups")
        let bundle = backups.appendingPathComponent(info.filename)
        #expect(Array(try Data(contentsOf: bundle).prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        #expect(Process.run("/usr/bin/sha256sum", ["-c", info.filename + ".sha256"], in: backups) == 0)

        // The system's tools as oracles: both ways of opening a .tar.zst give the same database.
        let piped = try folder("piped", in: directory)
        #expect(Process.run("/bin/sh", ["-c", "zstd -dc \"$0\" | tar -x", bundle.path], in: piped) == 0)
        let untarred = try folder("untarred", in: directory)
        #expect(Process.run("/bin/tar", ["--zstd", "-xf", bundle.path], in: untarred) == 0)
        for extracted in [piped, untarred] {
            let names = try FileManager.default.contentsOfDirectory(atPath: extracted.path).sorted()
            #expect(names == ["database.sqlite", "manifest.json"])
            let database = extracted.appendingPathComponent("database.sqlite").path
            #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"])
            #expect(try TestDB.fingerprint(database) == TestDB.fingerprint(directory.dataDirectory.database.path))
        }
        #expect(try backup.run(["verify", info.id, "--data-dir", directory.path]).status == 0)

        // Named .tar.gz, it is still read as zstd: import keeps .tar.zst, restore --file takes it.
        let renamed = directory.url.appendingPathComponent("renamed.tar.gz")
        try FileManager.default.copyItem(at: bundle, to: renamed)
        let target = TemporaryDirectory("cli-zstd-import")
        let imported = try backup.run(["import", renamed.path, "--data-dir", target.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let importedInfo = try json(BackupInfo.self, imported)
        #expect(importedInfo.id == info.id && importedInfo.sha256 == info.sha256)
        #expect(importedInfo.filename.hasSuffix("-imported-\(info.id).tar.zst"))
        #expect(try backup.run(["verify", info.id, "--data-dir", target.path]).status == 0)

        let fingerprint = try TestDB.fingerprint(directory.dataDirectory.database.path)
        try TestDB.execute(directory.dataDirectory.database.path, "DELETE FROM account WHERE id > 50")
        #expect(try TestDB.fingerprint(directory.dataDirectory.database.path) != fingerprint)
        let restored = try backup.run([
            "restore", "--file", renamed.path, "--yes", "--no-safety-backup", "--data-dir", directory.path,
        ])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try TestDB.fingerprint(directory.dataDirectory.database.path) == fingerprint)

        // A damaged zstd bundle fails verification (exit 3) like a damaged gzip one.
        var damaged = try Data(contentsOf: bundle)
        damaged.append(contentsOf: Array("tail".utf8))
        try damaged.write(to: bundle)
        let failed = try backup.run(["verify", info.id, "--data-dir", directory.path])
        #expect(failed.status == 3)
        #expect(failed.stdout.contains("follow the zstd frame"), "\(failed.stdout)")
    }

    @Test(
        "reconciliation adopts a zstd bundle, whatever its extension, and quarantines a false one; retention prunes zstd"
    )
    func zstdReconcileAndPrune() throws {
        let source = TemporaryDirectory("cli-zstd-source")
        try SampleDatabase.create(at: source.dataDirectory.database, megabytes: 1)
        #expect(try backup.run(["settings", "set", "codec=zstd", "--data-dir", source.path]).status == 0)
        let made = try json(BackupInfo.self, try backup.run(["create", "--data-dir", source.path, "--json"]))
        let bundle = source.url.appendingPathComponent("backups/\(made.filename)")

        let directory = TemporaryDirectory("cli-zstd-adopt")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try directory.dataDirectory.prepare()
        let backups = directory.url.appendingPathComponent("backups")
        // The same zstd bundle under a gzip name, and a file that only looks like a bundle by name.
        let disguised = made.filename.replacingOccurrences(of: ".tar.zst", with: ".tar.gz")
        try FileManager.default.copyItem(at: bundle, to: backups.appendingPathComponent(disguised))
        let impostor = "backup-20260101-000000-manual-00000000000000aa.tar.zst"
        try Data("not a bundle".utf8).write(to: backups.appendingPathComponent(impostor))

        #expect(try backup.run(["settings", "set", "codec=zstd", "--data-dir", directory.path]).status == 0)
        let first = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        let listed = try json([BackupInfo].self, try backup.run(["list", "--data-dir", directory.path, "--json"]))
        let adopted = try #require(listed.first { $0.id == made.id })
        #expect(adopted.type == .imported && adopted.status == .completed && adopted.filename == disguised)
        #expect(adopted.sha256 == made.sha256)
        let quarantine = directory.dataDirectory.quarantine.path
        #expect(try FileManager.default.contentsOfDirectory(atPath: quarantine).contains(impostor))
        #expect(try backup.run(["verify", "--all", "--data-dir", directory.path]).status == 0)

        // Retention treats zstd bundles as it treats gzip ones: the oldest go, with their sidecars.
        let second = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        let pruned = try backup.run([
            "settings", "set", "keep_last=1", "include_manual=true", "--yes", "--data-dir", directory.path,
        ])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(directory.backupFiles() == [second.filename, second.filename + ".sha256"])
        #expect(second.filename.hasSuffix(".tar.zst") && first.filename.hasSuffix(".tar.zst"))
    }

    @Test("gzip stays the default; a level the codec does not take is a usage error naming codec and level")
    func codecLevelPair() throws {
        let directory = TemporaryDirectory("cli-codec-pair")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let shown = try json(
            BackupSettings.self, try backup.run(["settings", "show", "--json", "--data-dir", directory.path]))
        #expect(shown.codec == .gzip && shown.compressionLevel == 1)

        let tooHigh = try backup.run(["settings", "set", "compression_level=12", "--data-dir", directory.path])
        #expect(tooHigh.status == 2)
        #expect(tooHigh.stderr.contains("codec: gzip takes compression_level 1 to 9, not 12"), "\(tooHigh.stderr)")
        #expect(tooHigh.stderr.contains("compression_level: must be between 1 and 9 with codec gzip"))
        #expect(
            try backup.run(["settings", "set", "codec=zstd", "compression_level=12", "--data-dir", directory.path])
                .status == 0)
        let back = try backup.run(["settings", "set", "codec=gzip", "--data-dir", directory.path])
        #expect(back.status == 2 && back.stderr.contains("codec:") && back.stderr.contains("compression_level:"))
        let unknown = try backup.run(["settings", "set", "codec=lz4", "--data-dir", directory.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("codec: must be gzip or zstd"), "\(unknown.stderr)")
        let word = try backup.run(["settings", "set", "compression_level=fast", "--data-dir", directory.path])
        #expect(word.status == 2 && word.stderr.contains("compression_level: must be an integer"))
        let settings = try json(
            BackupSettings.self, try backup.run(["settings", "show", "--json", "--data-dir", directory.path]))
        #expect(settings.codec == .zstd && settings.compressionLevel == 12)

        #expect(
            try backup.run(["settings", "set", "codec=gzip", "compression_level=1", "--data-dir", directory.path])
                .status == 0)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        #expect(info.filename.hasSuffix(".tar.gz"))
        let extract = try folder("x", in: directory)
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        #expect(Process.run("/bin/tar", ["-xzf", bundle.path], in: extract) == 0)
    }
}
