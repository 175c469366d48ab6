import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Catalog: id prefixes and read-only opening")
struct CatalogReadOnlyTests {
    /// A catalog holding records with the given ids.
    static func catalog(ids: [String]) throws -> (TemporaryDirectory, Catalog) {
        let directory = TemporaryDirectory("catalog-prefix")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        for id in ids {
            var record = BackupRecord(id: id, type: .manual, createdAt: Date(), note: nil)
            record.status = .completed
            try catalog.insert(record)
        }
        return (directory, catalog)
    }

    @Test("resolveID: a unique prefix of 4+ characters in any case; ambiguous, short and unknown ones are refused")
    func resolveID() throws {
        let ids = ["abcd000000000001", "abcd000000000002", "abce000000000003"]
        let (directory, catalog) = try Self.catalog(ids: ids)
        defer { withExtendedLifetime(directory) {} }
        #expect(try catalog.resolveID("ABCE") == ids[2])
        #expect(try catalog.resolveID("abcd000000000002") == ids[1])
        #expect(throws: BackupError.ambiguousID(prefix: "abcd", candidates: [ids[0], ids[1]])) {
            try catalog.resolveID("ABCD")
        }
        #expect(throws: BackupError.idPrefixTooShort("abc")) { try catalog.resolveID("abc") }
        #expect(throws: BackupError.invalidID("abc*")) { try catalog.resolveID("abc*") }
        #expect(throws: BackupError.invalidID("abcd0000000000011")) { try catalog.resolveID("abcd0000000000011") }
        #expect(throws: BackupError.notFound(id: "ffff")) { try catalog.resolveID("FFFF") }
        #expect(try catalog.record(matching: "abcd000000000001").id == ids[0])
    }

    @Test("a read-only catalog reads what was written and refuses to write")
    func readOnly() throws {
        let (directory, writer) = try Self.catalog(ids: ["0123456789abcdef"])
        writer.close()
        let reader = try Catalog(readingFrom: directory.dataDirectory)
        #expect(reader.isReadOnly)
        #expect(try reader.record(id: "0123456789abcdef").status == .completed)
        #expect(try reader.settings() == BackupSettings())
        #expect(throws: BackupError.self) { try reader.deleteRecord(id: "0123456789abcdef") }
        #expect(try Catalog(dataDirectory: directory.dataDirectory).record(id: "0123456789abcdef").id.count == 16)
    }

    @Test("the immutable URI of a path with spaces and question marks stays one path")
    func immutableURI() throws {
        let directory = TemporaryDirectory("catalog-uri")
        let odd = directory.url.appendingPathComponent("a dir?#x")
        try FileManager.default.createDirectory(at: odd, withIntermediateDirectories: true)
        let url = odd.appendingPathComponent("catalog.sqlite")
        let queue = try DatabaseQueue(path: url.path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE t(x); INSERT INTO t VALUES (42)") }
        try queue.close()
        var config = Configuration()
        config.readonly = true
        let immutable = try DatabaseQueue(path: Catalog.immutableURI(for: url), configuration: config)
        #expect(try immutable.read { db in try Int.fetchOne(db, sql: "SELECT x FROM t") } == 42)
    }

    @Test("a data directory without a catalog reads as empty and stays untouched; a missing one is an error")
    func withoutCatalog() throws {
        let directory = TemporaryDirectory("catalog-none")
        let empty = try Catalog(readingFrom: directory.dataDirectory)
        #expect(try empty.allRecords().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let missing = DataDirectory(root: directory.url.appendingPathComponent("nope").path)
        #expect(throws: BackupError.dataDirectoryMissing(path: missing.root.path)) {
            try Catalog(readingFrom: missing)
        }
        #expect(!FileManager.default.fileExists(atPath: missing.root.path))
    }

    @Test("a catalog of an older version is upgraded by a read command that may write it, not refused")
    func olderCatalogUpgraded() throws {
        let directory = TemporaryDirectory("catalog-older")
        try directory.dataDirectory.prepare()
        let url = directory.dataDirectory.catalog
        do {
            let pool = try DatabasePool(path: url.path)
            try Catalog.migrator(now: Date()).migrate(pool, upTo: "v2: verification outcome")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO backup (id, filename, type, status, created_at, pinned, done_bytes, total_bytes)
                        VALUES ('00000000000000aa', 'backup-20260101-000000-manual-00000000000000aa.tar.gz',
                                'manual', 'completed', '2026-01-01 00:00:00.000', 0, 0, 0)
                        """)
            }
            try pool.close()
        }
        let catalog = try Catalog(readingFrom: directory.dataDirectory)
        #expect(!catalog.isReadOnly)
        #expect(try catalog.allRecords().map(\.id) == ["00000000000000aa"])
    }
}
