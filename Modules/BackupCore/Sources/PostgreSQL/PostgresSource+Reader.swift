import Foundation

extension PostgresSource {
    /// Extracts `database.pgdump`, hashing it on the way, and has `pg_restore --list` read it.
    struct Reader: SourceEntryReader {
        let extracted: URL
        let environment: PostgresEnvironment
        var chunkSize = 1024 * 1024

        func claims(_ entry: TarEntry) -> Bool {
            entry.path == PostgresSource.entryName
        }

        mutating func read(
            _ entry: TarEntry, from tar: inout TarReader, onChunk: () -> Void
        ) throws(BackupError)
            -> Manifest.Entry
        {
            try extractFile(entry, from: &tar, to: extracted, chunkSize: chunkSize, onChunk: onChunk)
        }

        func check(_ source: Manifest.Source) throws(BackupError) -> [String] {
            guard source.postgresql != nil else { return ["postgresql source \(source.name) has no figures"] }
            let pgRestore = try PgTool.find("pg_restore", in: environment)
            let result = try pgRestore.run(["--list", extracted.path], connection: nil)
            // A dump from a newer pg_dump than this pg_restore reads says nothing about the bundle either.
            if !result.succeeded, result.stderr.contains("unsupported version") {
                throw .toolOutdated(
                    tool: "pg_restore", version: (try? pgRestore.version()) ?? "?",
                    serverVersion: source.postgresql?.pgDumpVersion ?? "?", package: PgTool.package)
            }
            guard result.succeeded else {
                return [
                    "pg_restore --list cannot read \(PostgresSource.entryName) (exit status \(result.status)): "
                        + PgTool.lastLines(of: result.stderr)
                ]
            }
            return []
        }

        func discard() {
            FileOps.removeIfPresent(extracted)
        }
    }
}
