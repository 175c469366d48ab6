import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    @Test("show, verify, pin, unpin, restore and delete take a unique id prefix of 4+ characters in any case")
    func idPrefixes() throws {
        let directory = TemporaryDirectory("cli-id-prefix")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        let prefix = String(info.id.prefix(5)).uppercased()

        let shown = try backup.run(["show", prefix, "--json", "--data-dir", directory.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(try json(BackupInfo.self, shown).id == info.id)
        #expect(try backup.run(["show", info.id.uppercased(), "--data-dir", directory.path]).status == 0)
        #expect(try backup.run(["verify", prefix, "--data-dir", directory.path]).status == 0)
        let pinned = try backup.run(["pin", prefix, "--json", "--data-dir", directory.path])
        #expect(try json(BackupInfo.self, pinned).pinned)
        let unpinned = try backup.run(["unpin", String(info.id.prefix(4)), "--json", "--data-dir", directory.path])
        #expect(try !json(BackupInfo.self, unpinned).pinned)
        let restored = try backup.run([
            "restore", prefix, "--yes", "--no-safety-backup", "--data-dir", directory.path,
        ])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains(info.id))
        let deleted = try backup.run(["delete", prefix, "--yes", "--data-dir", directory.path])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout == "deleted \(info.id)\n")

        let unknown = try backup.run(["show", prefix, "--data-dir", directory.path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no backup with id \(prefix.lowercased())\n")
        let short = try backup.run(["show", "abc", "--data-dir", directory.path])
        #expect(short.status == 2)
        #expect(short.stderr.contains("at least 4 characters"), "\(short.stderr)")
        #expect(try backup.run(["show", "abcg", "--data-dir", directory.path]).status == 2)
    }

    @Test("an ambiguous id prefix is a usage error that lists every candidate")
    func ambiguousPrefix() throws {
        let directory = TemporaryDirectory("cli-id-ambiguous")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let ids = ["abcd000000000001", "abcd000000000002", "abce000000000003"]
        for id in ids {
            var record = BackupRecord(id: id, type: .manual, createdAt: Date(), note: nil)
            record.status = .completed
            try catalog.insert(record)
        }
        catalog.close()

        let text = try backup.run(["show", "ABCD", "--data-dir", directory.path])
        #expect(text.status == 2)
        #expect(text.stderr.hasPrefix("error: abcd matches 2 backups"), "\(text.stderr)")
        #expect(text.stderr.contains(ids[0]) && text.stderr.contains(ids[1]) && !text.stderr.contains(ids[2]))
        let json = try backup.run(["pin", "abcd0", "--json", "--data-dir", directory.path])
        #expect(json.status == 2)
        #expect(json.stderr.isEmpty)
        #expect(json.stdout.contains("\"ambiguous_id\""))
        let unique = try backup.run(["show", "abcd000000000002", "--json", "--data-dir", directory.path])
        #expect(try self.json(BackupInfo.self, unique).id == ids[1])
        #expect(
            try self.json(BackupInfo.self, try backup.run(["show", "abce", "--json", "--data-dir", directory.path])).id
                == ids[2])
    }
}
