import Foundation

extension PostgresSource {
    /// What the server says before a dump (one `psql` call).
    struct ServerFacts: Sendable, Equatable {
        /// `pg_database_size(current_database())`: the estimate for the space check and progress.
        var databaseSize: Int64
        /// `current_database()`.
        var database: String
        /// `server_version` (`15.14 (Debian 15.14-0+deb12u1)`) and `server_version_num` (150014).
        var serverVersion: String
        var serverVersionNumber: Int

        /// The major version (15 for 150014; 9.6 servers count as 9).
        var major: Int { serverVersionNumber / 10000 }
    }

    /// Asks the server for the database's size, name and version. Blocks: run it on a
    /// ``BlockingWork`` thread. An unreachable server or a refused login is
    /// ``BackupError/sourceUnavailable(path:reason:)``.
    func probe() throws(BackupError) -> ServerFacts {
        let psql = try PgTool.find("psql", in: environment)
        let query =
            "select pg_database_size(current_database()), current_setting('server_version_num'), "
            + "current_setting('server_version'), current_database()"
        let result = try psql.run(
            ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "|", "-c", query], connection: url,
            outputLimit: 64 * 1024)
        guard result.succeeded else { throw psql.failure(result, connection: url) }
        let line = result.stdout.trimmingCharacters(in: .newlines)
        let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, let size = Int64(fields[0]), let number = Int(fields[1]) else {
            throw .toolFailed(tool: "psql", status: result.status, stderr: "unexpected answer: \(line.prefix(200))")
        }
        return ServerFacts(
            databaseSize: size, database: fields[3], serverVersion: fields[2], serverVersionNumber: number)
    }

    /// Dumps the database into `spool` with `pg_dump --format=custom --compress=0` (the bundle's
    /// codec compresses once) and returns the source with the dump set. `tick` gets the spool's
    /// size about ten times a second. Refuses a `pg_dump` older than the server
    /// (``BackupError/toolOutdated(tool:version:serverVersion:package:)``) before starting it.
    /// On any failure, and on cancellation (the child is terminated), the spool is removed.
    func dump(to spool: URL, server: ServerFacts, tick: (Int64) -> Void) throws(BackupError) -> PostgresSource {
        let pgDump = try PgTool.find("pg_dump", in: environment)
        let version = try pgDump.version()
        if let major = Int(version.prefix { $0.isNumber }), major < server.major {
            throw .toolOutdated(
                tool: "pg_dump", version: version, serverVersion: server.serverVersion, package: PgTool.package)
        }
        FileOps.removeIfPresent(spool)
        let result: PgTool.Result
        do throws(BackupError) {
            result = try pgDump.run(
                ["--format=custom", "--compress=0", "--file=\(spool.path)"], connection: url,
                tick: { tick(FileOps.size(of: spool) ?? 0) })
        } catch {
            FileOps.removeIfPresent(spool)
            throw error
        }
        guard result.succeeded else {
            FileOps.removeIfPresent(spool)
            throw pgDump.failure(result, connection: url)
        }
        tick(FileOps.size(of: spool) ?? 0)
        var source = self
        source.dump = (
            spool,
            PostgresFigures(
                url: url.redacted, database: server.database, serverVersion: server.serverVersion,
                pgDumpVersion: version)
        )
        return source
    }
}
