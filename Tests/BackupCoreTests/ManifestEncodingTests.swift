import Foundation
import Testing

@testable import BackupCore

@Suite("manifest.json: the entries written by hand are what JSONEncoder writes")
struct ManifestEncodingTests {
    /// What `encoded()` wrote when `JSONEncoder` wrote the whole manifest.
    static func byFoundation(_ manifest: Manifest) throws -> [UInt8] {
        Array(try JSONEncoder.backupManager(pretty: true).encode(manifest)) + [0x0a]
    }

    static let odd = "files/up/a \"quoted\" \\ back/slash\ttab\nline\u{1}\u{1f}\u{7f} déjà Привет 🙂 e\u{301}"

    @Test(
        "every kind of entry, odd names, both formats and no entries: the same bytes as JSONEncoder's",
        arguments: [1, 2])
    func sameBytes(formatVersion: Int) throws {
        let sqlite = SQLiteFigures(
            path: "/srv/app.sqlite", sqliteVersion: "3.46.1", pageSize: 4096, pageCount: 2, userVersion: 3)
        var manifest = Manifest(
            formatVersion: formatVersion, id: "0123456789abcdef", type: .manual,
            createdAt: Date(timeIntervalSince1970: 1_764_000_000.5),
            sources: [
                Manifest.Source(kind: .sqlite, name: "database", sqlite: sqlite),
                Manifest.Source(
                    kind: .directory, name: "up",
                    directory: DirectoryFigures(path: "/srv/up", warnings: [Self.odd + ": changed"])),
            ])
        #expect(try manifest.encoded() == Self.byFoundation(manifest))
        manifest.entries = [
            Manifest.Entry(
                path: "database.sqlite", size: 8192, sha256: String(repeating: "ab", count: 32), mode: 0o640,
                mtime: 1_700_000_000),
            Manifest.Entry(path: "files/up", type: .directory, size: 0, sha256: nil, mode: 0o755, mtime: 0),
            Manifest.Entry(path: Self.odd, size: 12, sha256: "cd", mode: 0o4755, mtime: -1),
            Manifest.Entry(
                path: "files/up/link", type: .symlink, size: 0, sha256: nil, mode: 0o777, mtime: 5, target: Self.odd),
            Manifest.Entry(path: "old", size: 1, sha256: "ef", mode: nil, mtime: nil),
        ]
        #expect(try manifest.encoded() == Self.byFoundation(manifest))
        if formatVersion == 2 {
            // Read back (format 2 wants a mode and an mtime on every entry: the last one has none).
            manifest.entries.removeLast()
            #expect(try Manifest.decode(try manifest.encoded()).entries == manifest.entries)
        }
    }
}
