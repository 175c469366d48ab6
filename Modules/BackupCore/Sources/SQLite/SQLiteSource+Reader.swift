import Foundation
import GRDB

extension SQLiteSource {
    /// Extracts `database.sqlite` and checks it: `PRAGMA integrity_check`, then the manifest's
    /// page size, page count and user version against the file, so a manifest edited after the
    /// fact is caught even when its entry hashes still match.
    struct Reader: SourceEntryReader {
        let extracted: URL
        var chunkSize = 1024 * 1024

        func claims(_ entry: TarEntry) -> Bool {
            entry.path == SQLiteSource.entryName
        }

        mutating func read(
            _ entry: TarEntry, from tar: inout TarReader, onChunk: () -> Void
        ) throws(BackupError)
            -> Manifest.Entry
        {
            try extractFile(entry, from: &tar, to: extracted, chunkSize: chunkSize, onChunk: onChunk)
        }

        func check(_ source: Manifest.Source) -> [String] {
            if let failure = BundleVerifier.integrityCheck(extracted) {
                return ["integrity_check of \(SQLiteSource.entryName): \(failure)"]
            }
            guard let figures = source.sqlite else { return ["sqlite source \(source.name) has no figures"] }
            do {
                var config = Configuration()
                config.readonly = true
                config.label = "manifest-check"
                let queue = try DatabaseQueue(path: extracted.path, configuration: config)
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
                    ("page_size", figures.pageSize, pageSize), ("page_count", figures.pageCount, pageCount),
                    ("user_version", figures.userVersion, userVersion),
                ] where listed != actual {
                    problems.append("manifest \(field) is \(listed), \(SQLiteSource.entryName) has \(actual)")
                }
                return problems
            } catch {
                return ["\(SQLiteSource.entryName) cannot be read: \(error)"]
            }
        }

        func discard() {
            SnapshotEngine.removeDatabaseFiles(at: extracted)
        }
    }
}
