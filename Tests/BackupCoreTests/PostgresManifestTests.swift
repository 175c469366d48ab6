import Foundation
import Testing

@testable import BackupCore

@Suite("Manifest: a PostgreSQL source's fields under its postgresql key, in snake_case")
struct PostgresManifestTests {
    @Test("encoded and read back; the source counts as the bundle's database")
    func roundTrip() throws {
        let figures = PostgresFigures(
            url: "postgresql://app@127.0.0.1:5432/app", database: "app", serverVersion: "15.18 (Debian)",
            pgDumpVersion: "15.18")
        var manifest = Manifest(
            id: BackupID.make(), type: .manual, createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        manifest.sources = [Manifest.Source(kind: .postgresql, name: "database", postgresql: figures)]
        manifest.entries = [
            Manifest.Entry(
                path: "database.pgdump", size: 3, sha256: String(repeating: "a", count: 64), mode: 0o644, mtime: 1)
        ]
        let bytes = try manifest.encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let source = try #require((object["sources"] as? [[String: Any]])?.first)
        #expect(source["kind"] as? String == "postgresql" && source["name"] as? String == "database")
        #expect(
            source["postgresql"] as? [String: String] == [
                "url": "postgresql://app@127.0.0.1:5432/app", "database": "app", "server_version": "15.18 (Debian)",
                "pg_dump_version": "15.18",
            ])
        let decoded = try Manifest.decode(bytes)
        #expect(decoded == manifest && decoded.postgresql == figures && decoded.sqlite == nil)
        #expect(decoded.databaseKind == .postgresql && decoded.scope == .database)
    }

    @Test("a postgresql source without its fields is not a readable manifest")
    func missingFigures() throws {
        func manifest(source: String) -> [UInt8] {
            let text = """
                {"format_version":2,"id":"\(BackupID.make())","type":"manual","created_at":"2027-01-15T08:00:00Z",
                 "tool_version":"1","sources":[\(source)],"entries":[]}
                """
            return Array(text.utf8)
        }
        let fields = #"{"url":"postgresql://h/app","database":"app","server_version":"15","pg_dump_version":"15"}"#
        #expect(
            try Manifest.decode(
                manifest(source: #"{"kind":"postgresql","name":"database","postgresql":"# + fields + "}")
            ).postgresql?.database == "app")
        #expect(throws: BackupError.self) {
            try Manifest.decode(manifest(source: #"{"kind":"postgresql","name":"database"}"#))
        }
    }
}
