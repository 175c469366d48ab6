import Crypto
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
            guard entry.type == .file else {
                throw .verificationFailed(
                    reason: "\(PostgresSource.entryName) is a \(entry.type.rawValue), not a file")
            }
            let output = try OutputFile(creating: extracted)
            defer { output.close() }
            var hash = SHA256()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                if Task.isCancelled { throw .cancelled }
                let count = try tar.readEntry(into: buffer)
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hash.update(bufferPointer: chunk)
                try output.write(chunk)
                onChunk()
            }
            return Manifest.Entry(
                path: entry.path, size: entry.size, sha256: hash.finalize().hexString, mode: entry.mode,
                mtime: entry.mtime)
        }

        /// `pg_restore --list` must read the dump's table of contents (exit 0); a `pg_restore`
        /// that is not installed, or older than the dump's format, is thrown
        /// (``BackupError/toolMissing(tool:package:)``, ``BackupError/toolOutdated(tool:version:serverVersion:package:)``):
        /// it says nothing about the bundle.
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
