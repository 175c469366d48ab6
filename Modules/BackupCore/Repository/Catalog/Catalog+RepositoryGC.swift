import Foundation
import GRDB

extension Catalog {
    /// The rows of the chunks pack `name` serves (a chunk another pack also holds has one row,
    /// for the pack that got it first: only that pack serves it).
    func chunkRows(ofPack name: String) throws(BackupError) -> [PackEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT hash, offset, length, raw_length FROM repository_chunk WHERE pack = ? ORDER BY offset",
                arguments: [name]
            ).map { row in
                PackEntry(
                    sha256: row["hash"], offset: row["offset"], length: row["length"], rawLength: row["raw_length"])
            }
        }
    }

    /// A repack's one transaction: records the new pack `pack` (durable in its place), points
    /// the rows of the chunks it holds at it, and forgets the `old` packs and their remaining
    /// (dead) rows. Before it the old packs serve every chunk; after it the new one does; the
    /// old files are deleted only afterwards.
    func movePacks(_ old: [String], into pack: RepositoryPackRecord, entries: [PackEntry]) throws(BackupError) {
        try write { db in
            try Self.insertPackRow(pack, in: db)
            for entry in entries {
                try db.execute(
                    sql: """
                        INSERT INTO repository_chunk(hash, pack, offset, length, raw_length) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(hash) DO UPDATE SET pack = excluded.pack, offset = excluded.offset,
                        length = excluded.length, raw_length = excluded.raw_length
                        """,
                    arguments: [entry.sha256, pack.name, entry.offset, entry.length, entry.rawLength])
            }
            for name in old {
                try db.execute(sql: "DELETE FROM repository_chunk WHERE pack = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM repository_pack WHERE name = ?", arguments: [name])
            }
        }
    }
}
