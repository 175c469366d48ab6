import GRDB

extension Catalog {
    /// The full id of the one backup whose id starts with `prefix`, as the CLI accepts ids: any
    /// 4 to 16 of an id's leading characters, in any case (like restic and git).
    ///
    /// Throws ``BackupError/idPrefixTooShort(_:)`` below 4 characters, ``BackupError/invalidID(_:)``
    /// for anything but hexadecimal, ``BackupError/notFound(id:)`` when no id starts so, and
    /// ``BackupError/ambiguousID(prefix:candidates:)`` naming every id that does when there are
    /// several. The API keeps asking for whole ids (``record(id:)``).
    public func resolveID(_ prefix: String) throws(BackupError) -> String {
        let lowered = try BackupID.validatedPrefix(prefix)
        // Hexadecimal holds no GLOB wildcard, and GLOB is case-sensitive, so the primary key's
        // index answers it.
        let matches = try read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM backup WHERE id GLOB ? ORDER BY id", arguments: [lowered + "*"])
        }
        switch matches.count {
        case 0: throw .notFound(id: lowered)
        case 1: return matches[0]
        default: throw .ambiguousID(prefix: lowered, candidates: matches)
        }
    }

    /// The record whose id starts with `prefix` (see ``resolveID(_:)``).
    public func record(matching prefix: String) throws(BackupError) -> BackupRecord {
        try record(id: try resolveID(prefix))
    }
}
