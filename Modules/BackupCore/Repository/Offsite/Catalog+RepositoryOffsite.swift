import Foundation
import GRDB

extension Catalog {
    /// The packs (by name) holding any of `hashes`, looked up in batches of ``chunkLookupBatch``.
    func packNames(holding hashes: [String]) throws(BackupError) -> Set<String> {
        try chunkColumn("pack", among: hashes)
    }

    /// Records where pack `name`'s off-site copy stands (`uploaded`, or nil when the bucket holds
    /// none).
    func setPackOffsite(_ name: String, status: OffsiteStatus?) throws(BackupError) {
        try write { db in
            try db.execute(
                sql: "UPDATE repository_pack SET offsite_status = ? WHERE name = ?",
                arguments: [status?.rawValue, name])
        }
    }
}

extension Catalog {
    /// The chunks whose rows point at pack `name`.
    func chunkHashes(inPack name: String) throws(BackupError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT hash FROM repository_chunk WHERE pack = ?", arguments: [name])
        }
    }
}
