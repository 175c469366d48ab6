import BackupCore
import Foundation
import GRDB
import TestSupport
import Testing

/// A real format 1 bundle, made by the code before format 2 (see its README), read by today's
/// binaries: import verifies it, verify passes, restore brings back its rows.
@Suite("Format 1 bundles stay verifiable and restorable", .serialized)
struct BundleFormatV1CLITests {
    let backup = try! ChildProcess(product: "backup")

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/bundles/v1")
    static let id = "48befc13fe21b492"
    static let pageCount: Int64 = 4

    static var bundle: URL {
        let name = try! FileManager.default.contentsOfDirectory(atPath: fixtures.path).first {
            $0.hasSuffix(".tar.gz")
        }!
        return fixtures.appendingPathComponent(name)
    }

    /// The rows the fixture's database holds.
    static func expectRows(in path: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        let (authors, books, title, userVersion, integrity) = try queue.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM author ORDER BY id"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM book"),
                try String.fetchOne(db, sql: "SELECT title FROM book WHERE year = 1972"),
                try Int.fetchOne(db, sql: "PRAGMA user_version"),
                try String.fetchAll(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(authors == ["Ursula", "Stanisław", "Italo"])
        #expect(books == 5)
        #expect(title == "Invisible Cities")
        #expect(userVersion == 3)
        #expect(integrity == ["ok"])
    }

    @Test("the fixture is a format 1 bundle whose sidecar checks with sha256sum -c")
    func fixtureIsVersionOne() throws {
        let check = try ChildProcess(executablePath: "/bin/sh").run([
            "-c", "cd \"$0\" && sha256sum -c \"$1\"", Self.fixtures.path, Self.bundle.lastPathComponent + ".sha256",
        ])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let manifest = try ChildProcess(executablePath: "/usr/bin/tar").run([
            "-xzOf", Self.bundle.path, "manifest.json",
        ])
        #expect(manifest.stdout.contains("\"format_version\" : 1"))
    }

    @Test("import verifies a format 1 bundle; verify passes; the catalog has its page count")
    func importAndVerify() throws {
        let directory = TemporaryDirectory("v1-import")
        let imported = try backup.run(["import", Self.bundle.path, "--data-dir", directory.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(imported.stdout.utf8))
        #expect(info.id == Self.id && info.status == .completed)
        let verify = try backup.run(["verify", info.id, "--data-dir", directory.path])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.record(id: info.id).sourcePageCount == Self.pageCount)
    }

    @Test("restore --file of a format 1 bundle brings back its rows; restore by id after import too")
    func restore() throws {
        let directory = TemporaryDirectory("v1-restore")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let restored = try backup.run([
            "restore", "--file", Self.bundle.path, "--yes", "--no-safety-backup", "--data-dir", directory.path,
        ])
        #expect(restored.status == 0, "\(restored.stderr)")
        try Self.expectRows(in: directory.dataDirectory.database.path)

        let other = TemporaryDirectory("v1-restore-id")
        try SampleDatabase.create(at: other.dataDirectory.database, megabytes: 1)
        #expect(try backup.run(["import", Self.bundle.path, "--data-dir", other.path]).status == 0)
        let byID = try backup.run(["restore", Self.id, "--yes", "--data-dir", other.path])
        #expect(byID.status == 0, "\(byID.stderr)")
        try Self.expectRows(in: other.dataDirectory.database.path)
        #expect(other.temporaryFiles().isEmpty)
    }

    @Test("a format 1 bundle dropped into backups/ is adopted by reconciliation with its page count")
    func adoptedByReconciliation() throws {
        let directory = TemporaryDirectory("v1-adopt")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let backups = directory.url.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        for name in [Self.bundle.lastPathComponent, Self.bundle.lastPathComponent + ".sha256"] {
            try FileManager.default.copyItem(
                at: Self.fixtures.appendingPathComponent(name), to: backups.appendingPathComponent(name))
        }
        let verify = try backup.run(["verify", "--all", "--data-dir", directory.path])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let record = try catalog.record(id: Self.id)
        #expect(record.status == .completed && record.sourcePageCount == Self.pageCount)
    }

    @Test("a new bundle is format 2: tar shows database.sqlite at the root, the manifest lists the SQLite source")
    func newBundlesAreVersionTwo() throws {
        let directory = TemporaryDirectory("v2-create")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)").path
        let tar = ChildProcess(executablePath: "/usr/bin/tar")
        let listed = try tar.run(["-tvzf", bundle])
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("-rw-r--r--") && lines[0].hasSuffix(" database.sqlite"))
        let text = try tar.run(["-xzOf", bundle, "manifest.json"]).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(manifest["format_version"] as? Int == 2 && manifest["id"] as? String == info.id)
        let sources = manifest["sources"] as! [[String: Any]]
        let pages = try #require(try TestDB.int(directory.dataDirectory.database.path, "PRAGMA page_count"))
        #expect(sources.count == 1 && sources[0]["kind"] as? String == "sqlite")
        #expect(sources[0]["page_count"] as? Int == pages)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.record(id: info.id).sourcePageCount == Int64(pages))
    }
}
