import Foundation
import GRDB

extension BundleVerifier {
    /// What the manifest says about the database (page size, page count, user version) against
    /// the extracted database itself, so a manifest edited after the fact is caught even when its
    /// entry hashes still match.
    static func compareDatabase(manifest: Manifest, database: URL) -> [String] {
        do {
            var config = Configuration()
            config.readonly = true
            config.label = "manifest-check"
            let queue = try DatabaseQueue(path: database.path, configuration: config)
            defer { try? queue.close() }
            let (pageSize, pageCount, userVersion) = try queue.read { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                )
            }
            var problems: [String] = []
            for (field, listed, actual) in [
                ("page_size", manifest.pageSize, pageSize), ("page_count", manifest.pageCount, pageCount),
                ("user_version", manifest.userVersion, userVersion),
            ] where listed != actual {
                problems.append("manifest \(field) is \(listed), database.sqlite has \(actual)")
            }
            return problems
        } catch {
            return ["database.sqlite cannot be read: \(error)"]
        }
    }
}
