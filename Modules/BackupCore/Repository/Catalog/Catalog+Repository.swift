import Foundation
import GRDB

/// A pack as the catalog lists it.
struct RepositoryPackRecord: Equatable, Sendable {
    var name: String
    var sizeBytes: Int64
    var createdAt: Date
    var offsiteStatus: String?
}

extension Catalog {
    /// How many hashes one lookup query carries (SQLite's default limit on variables is far
    /// higher; this keeps each statement small).
    static let chunkLookupBatch = 500

    /// Where the chunk with this SHA-256 (hex) lies; nil when no pack holds it.
    func chunkLocation(_ sha256: String) throws(BackupError) -> ChunkLocation? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT pack, offset, length, raw_length FROM repository_chunk WHERE hash = ?",
                arguments: [sha256]
            ).map(Self.location)
        }
    }

    /// The hashes among `hashes` that some pack already holds, looked up in batches of
    /// ``chunkLookupBatch``.
    func knownChunks(among hashes: [String]) throws(BackupError) -> Set<String> {
        try chunkColumn("hash", among: hashes)
    }

    /// The distinct values of `column` (`hash`, `pack`) of the chunk rows whose hash is among
    /// `hashes`, looked up in batches of ``chunkLookupBatch``.
    func chunkColumn(_ column: String, among hashes: [String]) throws(BackupError) -> Set<String> {
        var values: Set<String> = []
        for start in stride(from: 0, to: hashes.count, by: Self.chunkLookupBatch) {
            let batch = Array(hashes[start..<min(start + Self.chunkLookupBatch, hashes.count)])
            let found = try read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT \(column) FROM repository_chunk
                        WHERE hash IN (\(databaseQuestionMarks(count: batch.count)))
                        """,
                    arguments: StatementArguments(batch))
            }
            values.formUnion(found)
        }
        return values
    }

    /// Inserts (or replaces) pack `pack`'s own row, inside a caller's transaction.
    static func insertPackRow(_ pack: RepositoryPackRecord, in db: Database) throws {
        try db.execute(
            sql:
                "INSERT OR REPLACE INTO repository_pack(name, size_bytes, created_at, offsite_status) VALUES (?, ?, ?, ?)",
            arguments: [pack.name, pack.sizeBytes, pack.createdAt, pack.offsiteStatus])
    }

    /// Records a durable pack and every chunk it holds, in one transaction: call it only once
    /// the pack file is fsynced in its place. A chunk another pack already holds keeps its row.
    func insertPack(_ pack: RepositoryPackRecord, entries: [PackEntry]) throws(BackupError) {
        try write { db in
            try Self.insertPackRow(pack, in: db)
            for entry in entries {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO repository_chunk(hash, pack, offset, length, raw_length)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [entry.sha256, pack.name, entry.offset, entry.length, entry.rawLength])
            }
        }
    }

    /// Forgets a pack and its chunks' rows, in one transaction: call it before the pack file is
    /// deleted, so no row ever points at a missing pack.
    func deletePack(named name: String) throws(BackupError) {
        try write { db in
            try db.execute(sql: "DELETE FROM repository_chunk WHERE pack = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM repository_pack WHERE name = ?", arguments: [name])
        }
    }

    /// Every pack the catalog lists, by name.
    func repositoryPacks() throws(BackupError) -> [RepositoryPackRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, size_bytes, created_at, offsite_status FROM repository_pack ORDER BY name"
            ).map { row in
                RepositoryPackRecord(
                    name: row["name"], sizeBytes: row["size_bytes"], createdAt: row["created_at"],
                    offsiteStatus: row["offsite_status"])
            }
        }
    }

    private static func location(_ row: Row) -> ChunkLocation {
        ChunkLocation(
            pack: row["pack"],
            entry: PackEntry(sha256: "", offset: row["offset"], length: row["length"], rawLength: row["raw_length"]))
    }
}

/// The catalog as a ``ChunkLocator``.
struct CatalogChunkLocator: ChunkLocator {
    let catalog: Catalog

    func locate(_ sha256: String) throws(BackupError) -> ChunkLocation? {
        guard var location = try catalog.chunkLocation(sha256) else { return nil }
        location.entry.sha256 = sha256
        return location
    }
}
