import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    @Test("a bundle from another data directory is imported under its id; a damaged one is refused and leaves nothing")
    func importBundle() throws {
        let source = TemporaryDirectory("cli-import-source")
        try SampleDatabase.create(at: source.dataDirectory.database, megabytes: 2)
        let made = try json(BackupInfo.self, try backup.run(["create", "--data-dir", source.path, "--json"]))
        let bundle = source.url.appendingPathComponent("backups/\(made.filename)")

        let target = TemporaryDirectory("cli-import-target")
        let imported = try backup.run(["import", bundle.path, "--data-dir", target.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let info = try json(BackupInfo.self, imported)
        #expect(info.id == made.id && info.type == .imported && info.status == .completed)
        #expect(info.sha256 == made.sha256)
        #expect(try backup.run(["verify", info.id, "--data-dir", target.path]).status == 0)
        let again = try backup.run(["import", bundle.path, "--data-dir", target.path])
        #expect(again.status == 1 && again.stderr.contains("already"), "\(again.stderr)")

        var damaged = try Data(contentsOf: bundle)
        // The trailer's CRC-32: a flip in the middle can land on a bit deflate ignores (zlib's
        // level 1 leaves many), which leaves the payload intact.
        damaged[damaged.count - 6] ^= 0x01
        let damagedFile = source.url.appendingPathComponent("damaged.tar.gz")
        try damaged.write(to: damagedFile)
        let other = TemporaryDirectory("cli-import-damaged")
        let refused = try backup.run(["import", damagedFile.path, "--data-dir", other.path])
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(other.backupFiles().isEmpty)
        let tmp = other.url.appendingPathComponent("backups/.tmp")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: tmp.path))?.isEmpty ?? true)

        let missing = try backup.run(["import", "/nonexistent/bundle.tar.gz", "--data-dir", other.path])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/bundle.tar.gz"))
    }
}
