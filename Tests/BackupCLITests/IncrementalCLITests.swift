import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    @Test("settings set format=incremental: create writes an index into the repository, the second adds a fraction")
    func incrementalFormat() throws {
        let directory = TemporaryDirectory("cli-incremental")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        let refused = try backup.run(["settings", "set", "format=delta", "--data-dir", directory.path])
        #expect(refused.status == 2 && refused.stderr.contains("format"), "\(refused.stderr)")
        let set = try backup.run(["settings", "set", "format=incremental", "--data-dir", directory.path, "--json"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try json(BackupSettings.self, set).format == .incremental)
        let shown = try backup.run(["settings", "show", "--data-dir", directory.path])
        #expect(shown.stdout.split(separator: "\n").contains { $0.hasPrefix("format") && $0.hasSuffix("incremental") })

        let first = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        #expect(first.status == .completed && first.format == .incremental && first.store == "repository")
        #expect(first.filename == "\(first.id).json.zst")
        let index = directory.url.appendingPathComponent("backups/repository/index/\(first.filename)")
        #expect(FileManager.default.fileExists(atPath: index.path))
        let second = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        let (firstBytes, secondBytes) = (try #require(first.sizeBytes), try #require(second.sizeBytes))
        #expect(secondBytes * 20 < firstBytes, "an unchanged database added \(secondBytes) of \(firstBytes) bytes")
        #expect(second.logicalBytes == first.logicalBytes && (second.dedupRatio ?? 0) > 20)

        let listed = try backup.run(["list", "--data-dir", directory.path, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(
            listed.stdout.contains(#""format":"incremental""#) || listed.stdout.contains(#""format" : "incremental""#))
        #expect(try backup.run(["delete", first.id, "--yes", "--data-dir", directory.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: index.path))
    }
}
