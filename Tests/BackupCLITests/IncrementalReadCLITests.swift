import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    /// The pack file (under `repository`) and byte range of the chunk with SHA-256 `hash`, read
    /// from the packs' own trailers (the last 8 bytes: the JSON trailer's length, big-endian).
    static func locateChunk(_ hash: String, in repository: URL) throws -> (pack: URL, offset: Int, length: Int)? {
        let packs = repository.appendingPathComponent("packs")
        for folder in try FileManager.default.contentsOfDirectory(atPath: packs.path) {
            for name in try FileManager.default.contentsOfDirectory(atPath: packs.appendingPathComponent(folder).path) {
                let url = packs.appendingPathComponent(folder).appendingPathComponent(name)
                let bytes = [UInt8](try Data(contentsOf: url))
                let length = bytes.suffix(8).reduce(0) { ($0 << 8) | Int($1) }
                let trailer = Data(bytes[(bytes.count - 8 - length)..<(bytes.count - 8)])
                let object = try #require(try JSONSerialization.jsonObject(with: trailer) as? [String: Any])
                for chunk in try #require(object["chunks"] as? [[String: Any]]) where chunk["sha256"] as? String == hash
                {
                    return (url, try #require(chunk["offset"] as? Int), try #require(chunk["length"] as? Int))
                }
            }
        }
        return nil
    }

    @Test(
        "incremental, end to end: the first of two backups deleted, the second restores exactly, exports to a bundle tar opens, and verify names damage"
    )
    func incrementalReadBack() throws {
        let directory = TemporaryDirectory("cli-incremental-read")
        let database = directory.dataDirectory.database.path
        let data = ["--data-dir", directory.path]
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        #expect(try backup.run(["settings", "set", "format=incremental"] + data).status == 0)
        let first = try json(BackupInfo.self, try backup.run(["create", "--json"] + data))
        try TestDB.execute(
            database,
            "UPDATE account SET balance = id - 50; INSERT INTO filler(payload) SELECT randomblob(800) FROM filler LIMIT 30"
        )
        let atSecond = try TestDB.fingerprint(database)
        let second = try json(BackupInfo.self, try backup.run(["create", "--json"] + data))
        #expect(first.format == .incremental && second.format == .incremental)
        #expect(try backup.run(["delete", first.id, "--yes"] + data).status == 0)

        // The live database moves on; the restore brings the second backup's rows back exactly.
        try TestDB.execute(database, "DELETE FROM filler WHERE id % 2 = 0; UPDATE account SET balance = 0")
        #expect(try TestDB.fingerprint(database) != atSecond)
        let restored = try backup.run(["restore", second.id, "--yes"] + data)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try TestDB.fingerprint(database) == atSecond)

        // export: a classic .tar.gz that tar -xzf opens, its database whole; never over a file.
        let scratch = TemporaryDirectory("cli-incremental-export")
        let exported = scratch.url.appendingPathComponent("x.tar.gz")
        let export = try backup.run(["export", second.id, "--output", exported.path] + data)
        #expect(export.status == 0, "\(export.stderr)")
        let opened = scratch.url.appendingPathComponent("opened")
        try FileManager.default.createDirectory(at: opened, withIntermediateDirectories: true)
        let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xzf", exported.path, "-C", opened.path])
        #expect(tar.status == 0, "\(tar.stderr)")
        let extracted = opened.appendingPathComponent("database.sqlite").path
        #expect(try TestDB.strings(extracted, "PRAGMA integrity_check") == ["ok"])
        #expect(try TestDB.fingerprint(extracted) == atSecond)
        let again = try backup.run(["export", second.id, "--output", exported.path] + data)
        #expect(again.status == 2 && again.stderr.contains("never overwrites"), "\(again.stderr)")

        #expect(try backup.run(["verify", second.id] + data).status == 0)
        #expect(try backup.run(["verify", "--read-data", second.id] + data).status == 0)

        // A flipped byte in a chunk the backup needs: the structure still checks, the data does not.
        let index = directory.url.appendingPathComponent("backups/repository/index/\(second.filename)")
        let json = try ChildProcess(executablePath: "/usr/bin/zstd").run(["-d", "-c", "-q", index.path])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let files = try #require(object["files"] as? [[String: Any]])
        let chunk = try #require((files.first?["chunks"] as? [String])?.first)
        let repository = directory.url.appendingPathComponent("backups/repository")
        let (pack, offset, length) = try #require(try Self.locateChunk(chunk, in: repository))
        var bytes = [UInt8](try Data(contentsOf: pack))
        bytes[offset + length / 2] ^= 0x20
        try Data(bytes).write(to: pack)
        #expect(try backup.run(["verify", second.id] + data).status == 0)
        let damaged = try backup.run(["verify", "--read-data", second.id] + data)
        #expect(damaged.status == 3)
        #expect(damaged.stdout.contains(pack.lastPathComponent) && damaged.stdout.contains(chunk), "\(damaged.stdout)")

        // A missing pack: plain verify notices it.
        try FileManager.default.removeItem(at: pack)
        let missing = try backup.run(["verify", second.id] + data)
        #expect(missing.status == 3)
        let name = pack.deletingPathExtension().lastPathComponent
        #expect(missing.stdout.contains("pack \(name) is missing"), "\(missing.stdout)")
    }
}
