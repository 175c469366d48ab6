import Foundation
import Testing

@testable import BackupCore

@Suite("manifest.json: format 2, and format 1 still read")
struct ManifestTests {
    static let versionOne = """
        {"created_at": "2026-11-25T21:00:00.000Z", "entries": [{"path": "database.sqlite", "sha256": "ab", "size": 8192}],
         "format_version": 1, "id": "0123456789abcdef", "page_count": 2, "page_size": 4096,
         "source_path": "/srv/app.sqlite", "sqlite_version": "3.46.1", "tool_version": "1.0.0", "type": "manual",
         "user_version": 3}
        """

    @Test("a format 1 manifest reads as one SQLite source named database, entries without mode or mtime")
    func versionOneMapsToOneSource() throws {
        let manifest = try Manifest.decode(Array(Self.versionOne.utf8))
        #expect(manifest.formatVersion == 1 && manifest.id == "0123456789abcdef")
        #expect(manifest.sources.count == 1)
        #expect(manifest.sources.first?.kind == .sqlite && manifest.sources.first?.name == "database")
        #expect(
            manifest.sqlite
                == SQLiteFigures(
                    path: "/srv/app.sqlite", sqliteVersion: "3.46.1", pageSize: 4096, pageCount: 2, userVersion: 3))
        #expect(
            manifest.entries == [
                Manifest.Entry(path: "database.sqlite", size: 8192, sha256: "ab", mode: nil, mtime: nil)
            ])
        // Written back in its own layout.
        let again = try JSONSerialization.jsonObject(with: Data(try manifest.encoded())) as! [String: Any]
        #expect(
            again["sources"] == nil && again["page_count"] as? Int == 2
                && again["source_path"] as? String == "/srv/app.sqlite")
    }

    @Test("format 2 round-trips sources and every kind of entry; mode is written in octal")
    func versionTwoRoundTrip() throws {
        let manifest = Manifest(
            id: "0123456789abcdef", type: .auto, createdAt: Date(timeIntervalSince1970: 1_800_000_000),
            sources: [
                Manifest.Source(
                    kind: .sqlite, name: "database",
                    sqlite: SQLiteFigures(path: "/a", sqliteVersion: "3", pageSize: 1024, pageCount: 9, userVersion: 0))
            ],
            entries: [
                Manifest.Entry(path: "database.sqlite", size: 9216, sha256: "cd", mode: 0o640, mtime: 1_800_000_000),
                Manifest.Entry(path: "files", type: .directory, size: 0, sha256: nil, mode: 0o755, mtime: 1),
                Manifest.Entry(
                    path: "files/l", type: .symlink, size: 0, sha256: nil, mode: 0o777, mtime: 2, target: "../x"),
            ])
        let bytes = try manifest.encoded()
        #expect(try Manifest.decode(bytes) == manifest)
        let json = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        #expect(json["format_version"] as? Int == 2 && json["page_count"] == nil)
        let entries = json["entries"] as! [[String: Any]]
        #expect(entries[0]["mode"] as? String == "0640" && entries[0]["type"] == nil)
        #expect(entries[2]["type"] as? String == "symlink" && entries[2]["target"] as? String == "../x")
        let source = (json["sources"] as! [[String: Any]])[0]
        #expect(source["kind"] as? String == "sqlite" && source["page_count"] as? Int == 9)
    }

    @Test("an unsupported format_version, a format 2 entry without mode, an unknown source kind: refused")
    func refusals() {
        let two = try! Manifest(id: "0123456789abcdef", type: .manual, createdAt: Date()).encoded()
        var object = try! JSONSerialization.jsonObject(with: Data(two)) as! [String: Any]
        for edit: ([String: Any]) -> [String: Any] in [
            {
                var m = $0; m["format_version"] = 3; return m
            },
            {
                var m = $0; m["entries"] = [["path": "database.sqlite", "size": 1, "sha256": "00"]]; return m
            },
            {
                var m = $0; m["sources"] = [["kind": "tape", "name": "files"]]; return m
            },
        ] {
            object = edit(try! JSONSerialization.jsonObject(with: Data(two)) as! [String: Any])
            let bytes = Array(try! JSONSerialization.data(withJSONObject: object))
            #expect(throws: BackupError.self) { try Manifest.decode(bytes) }
        }
    }
}
