import Foundation

extension HealthChecks {
    /// The protected database: a SQLite file that is there and in WAL mode (read from its
    /// header, so nothing is opened or created), or a PostgreSQL server `psql` reaches with a
    /// `pg_dump` at least as new as the server.
    func database() async -> HealthCheck {
        switch dataDirectory.location {
        case .sqlite(let url): return Self.sqlite(url)
        case .postgres(let url):
            let tools = PostgresEnvironment(environment)
            return await BlockingWork.run { Self.postgres(url, environment: tools) }
        }
    }

    static func sqlite(_ url: URL) -> HealthCheck {
        let path = url.path
        let fix = "give the application's database with --database or BACKUP_DATABASE"
        guard FileManager.default.fileExists(atPath: path) else {
            return HealthCheck(name: "database", status: .fail, detail: "\(path) does not exist", fix: fix)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return HealthCheck(
                name: "database", status: .fail, detail: "\(path) cannot be read by this user",
                fix: "run as the user that owns the database, or give it read access")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        guard header.count == 100, header.prefix(16) == Data("SQLite format 3\0".utf8) else {
            return HealthCheck(name: "database", status: .fail, detail: "\(path) is not a SQLite database", fix: fix)
        }
        // Bytes 18 and 19: the write and read format versions, 2 in WAL mode, 1 in rollback mode.
        guard header[header.startIndex + 18] == 2 else {
            return HealthCheck(
                name: "database", status: .warn,
                detail: "\(path) is in a rollback journal mode, not WAL: the application waits while a backup reads it",
                fix: "sqlite3 \(path) 'PRAGMA journal_mode=WAL' (while the application is stopped)")
        }
        return .ok("database", "\(path) (SQLite, journal_mode=wal)")
    }

    static func postgres(_ url: PostgresURL, environment: PostgresEnvironment) -> HealthCheck {
        let source = PostgresSource(url: url, environment: environment)
        let facts: PostgresSource.ServerFacts
        do throws(BackupError) {
            facts = try source.probe()
        } catch {
            return HealthCheck(
                name: "database", status: .fail, detail: error.message,
                fix: "check the URL, that the server runs, and the password (PGPASSWORD or ~/.pgpass)")
        }
        let version: String
        do throws(BackupError) {
            version = try PgTool.find("pg_dump", in: environment).version()
        } catch {
            return HealthCheck(
                name: "database", status: .fail, detail: "pg_dump: \(error.message)",
                fix: "apt-get install \(PgTool.package)")
        }
        let reached = "\(url.redacted) (PostgreSQL \(facts.serverVersion)), pg_dump \(version)"
        if let major = Int(version.prefix { $0.isNumber }), major < facts.major {
            return HealthCheck(
                name: "database", status: .fail,
                detail: reached + ": pg_dump is older than the server and cannot dump it",
                fix: "install pg_dump \(facts.major) or newer (\(PgTool.package) from the PostgreSQL apt repository)")
        }
        return .ok("database", reached)
    }
}
