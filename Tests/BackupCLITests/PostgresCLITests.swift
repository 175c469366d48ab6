import BackupCore
import Foundation
import TestSupport
import Testing

/// The issue's acceptance walk-through as a new operator would do it: the real `backup` binary
/// against a real PostgreSQL server of the test's own, the password only in `PGPASSWORD`.
@Suite("PostgreSQL through the CLI: create, verify, restore and --target-url with the real binary", .serialized)
struct PostgresCLITests {
    let backup = try! ChildProcess(product: "backup")
    let env = ChildProcess(executablePath: "/usr/bin/env")

    /// A server with the database `app` holding a ledger of (+x, −x) pairs that sums to zero.
    func ledgerServer() async throws -> PostgresServer {
        let server = try await PostgresServer.start()
        try server.psql(
            """
            CREATE TABLE ledger (id bigserial PRIMARY KEY, pair int NOT NULL, amount int NOT NULL);
            CREATE TABLE stop_writer (stop boolean);
            INSERT INTO ledger (pair, amount)
                SELECT i / 2, CASE WHEN i % 2 = 0 THEN i ELSE -(i - 1) END FROM generate_series(0, 3999) AS i;
            """, database: "app")
        return server
    }

    /// A `psql` child committing one (+x, −x) pair per transaction until `stop_writer` has a row.
    func startWriter(_ server: PostgresServer) throws -> ChildProcess.Running {
        try env.start(
            [
                "psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
                """
                DO $$
                DECLARE n int := 100000;
                BEGIN
                    WHILE NOT EXISTS (SELECT 1 FROM stop_writer) LOOP
                        n := n + 1;
                        INSERT INTO ledger (pair, amount) VALUES (n, n), (n, -n);
                        COMMIT;
                    END LOOP;
                END $$;
                """,
                server.urlText(database: "app", withPassword: false),
            ], environment: ["PGPASSWORD": server.password])
    }

    func rows(_ server: PostgresServer, _ database: String = "app") throws -> Int {
        Int(try server.psql("SELECT count(*) FROM ledger", database: database).trimmingCharacters(in: .whitespaces))!
    }

    /// `backup --data-dir DIR --database URL ARGS…` with the password only in PGPASSWORD.
    func run(
        _ directory: TemporaryDirectory, _ server: PostgresServer, _ arguments: [String]
    ) async throws -> ChildProcess.Result {
        try await backup.runOffPool(
            ["--data-dir", directory.path, "--database", server.urlText(database: "app", withPassword: false)]
                + arguments, environment: ["PGPASSWORD": server.password])
    }

    @Test(
        "create beside a writer: pg_restore of the dump sums to zero; verify exits 0; restore brings deleted rows back and lists a pre-restore backup"
    )
    func acceptance() async throws {
        let server = try await ledgerServer()
        defer { server.stop() }
        let directory = TemporaryDirectory("cli-postgres")

        let writer = try startWriter(server)
        #expect(await eventually { ((try? rows(server)) ?? 0) > 4100 }, "the writer commits")
        let created = try await run(directory, server, ["--json", "create"])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        #expect(info.status == .completed)
        let rowsAfterBackup = try rows(server)
        #expect(
            await eventually { ((try? rows(server)) ?? 0) > rowsAfterBackup },
            "the writer still commits after the backup")
        _ = try server.psql("INSERT INTO stop_writer VALUES (true)", database: "app")
        let stopped = writer.wait()
        #expect(stopped.status == 0, "\(stopped.stderr)")

        // The oracle: PostgreSQL's own pg_restore of the bundle's dump into an empty database.
        let unpacked = directory.url.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        let tar = try await env.runOffPool(["tar", "-xzf", bundle.path, "-C", unpacked.path, "database.pgdump"])
        #expect(tar.status == 0, "\(tar.stderr)")
        try server.createDatabase("oracle")
        try server.pgRestore(unpacked.appendingPathComponent("database.pgdump"), into: "oracle")
        let rowsInDump = try rows(server, "oracle")
        #expect(rowsInDump > 4100 && rowsInDump < rowsAfterBackup + 1)
        #expect(
            try server.psql("SELECT sum(amount) FROM ledger", database: "oracle").trimmingCharacters(in: .whitespaces)
                == "0")

        let verified = try await run(directory, server, ["verify", info.id])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")

        let deleted = "SELECT count(*) FROM ledger WHERE id <= 1000"
        try server.psql("DELETE FROM ledger WHERE id <= 1000", database: "app")
        #expect(try server.psql(deleted, database: "app") == "0")
        let restore = try await run(directory, server, ["restore", info.id, "--yes"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains(server.url(database: "app", withPassword: false).redacted))
        // The deleted rows are back; the writer's rows after the backup are not (the dump's state).
        #expect(try server.psql(deleted, database: "app") == "1000")
        #expect(try rows(server) == rowsInDump)
        #expect(try server.psql("SELECT sum(amount) FROM ledger", database: "app") == "0")

        let listed = try await run(directory, server, ["--json", "list", "--type", "pre-restore"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let safety = try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(listed.stdout.utf8))
        #expect(safety.count == 1 && safety.first?.status == .completed)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("restore --target-url fills another database and leaves the live one and the catalog's safety backups alone")
    func targetURL() async throws {
        let server = try await ledgerServer()
        defer { server.stop() }
        let directory = TemporaryDirectory("cli-postgres-target")
        let created = try await run(directory, server, ["--json", "create"])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        _ = try server.psql("DELETE FROM ledger WHERE id <= 1000", database: "app")
        try server.createDatabase("rehearsal")

        let target = server.urlText(database: "rehearsal", withPassword: false)
        let restore = try await run(directory, server, ["restore", info.id, "--yes", "--target-url", target])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains(server.url(database: "rehearsal", withPassword: false).redacted))
        #expect(try rows(server, "rehearsal") == 4000)
        #expect(try rows(server, "app") == 3000)
        let listed = try await run(directory, server, ["--json", "list", "--type", "pre-restore"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try JSONDecoder.backupManager().decode([BackupInfo].self, from: Data(listed.stdout.utf8)).isEmpty)
    }

    @Test(
        "restore --target-url of a SQLite data directory is refused (exit 2, naming --target-url) and changes nothing")
    func targetURLNeedsPostgreSQL() async throws {
        let directory = TemporaryDirectory("cli-postgres-target-sqlite")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try await backup.runOffPool(["create", "--json", "--data-dir", directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        let before = try Data(contentsOf: directory.dataDirectory.database)
        let result = try await backup.runOffPool([
            "restore", info.id, "--yes", "--data-dir", directory.path, "--target-url",
            "postgresql://app@127.0.0.1:5432/rehearsal",
        ])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--target-url"), "\(result.stderr)")
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("a --database or --target-url that does not parse exits 2 naming the option, never echoing the password")
    func badURL() async throws {
        let directory = TemporaryDirectory("cli-postgres-bad-url")
        let secret = "s3cret-\(UUID().uuidString.prefix(8))"
        for url in ["postgresql://app:\(secret)@[::1/app", "postgresql://app:\(secret)@host:notaport/app"] {
            let result = try await backup.runOffPool(["--data-dir", directory.path, "--database", url, "list"])
            #expect(result.status == 2, "\(url): \(result.stderr)")
            #expect(result.stderr.contains("--database"), "\(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains(secret))

            let fromEnvironment = try await backup.runOffPool(
                ["--data-dir", directory.path, "--json", "list"], environment: ["BACKUP_DATABASE": url])
            #expect(fromEnvironment.status == 2)
            #expect(fromEnvironment.stdout.contains("BACKUP_DATABASE"), "\(fromEnvironment.stdout)")
            #expect(!(fromEnvironment.stdout + fromEnvironment.stderr).contains(secret))

            let target = try await backup.runOffPool([
                "--data-dir", directory.path, "restore", "abcd", "--yes", "--target-url", url,
            ])
            #expect(target.status == 2, "\(target.stderr)")
            #expect(target.stderr.contains("--target-url"), "\(target.stderr)")
            #expect(!(target.stdout + target.stderr).contains(secret))
        }
    }

    @Test(
        "a password in --database works but warns that ps shows it; BACKUP_DATABASE does not warn; no output holds it")
    func passwordInArguments() async throws {
        let server = try await ledgerServer()
        defer { server.stop() }
        let directory = TemporaryDirectory("cli-postgres-argv-password")
        let withPassword = server.urlText(database: "app", withPassword: true)
        let encoded = String(withPassword.split(separator: "@")[0].split(separator: ":")[2])
        let secrets = [server.password, encoded]

        let created = try await backup.runOffPool([
            "--data-dir", directory.path, "--database", withPassword, "--json", "create",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("warning: the password in --database is visible"), "\(created.stderr)")
        #expect(created.stderr.contains("PGPASSWORD"))
        for secret in secrets { #expect(!(created.stdout + created.stderr).contains(secret)) }

        let quiet = try await backup.runOffPool(
            ["--data-dir", directory.path, "--json", "list"], environment: ["BACKUP_DATABASE": withPassword])
        #expect(quiet.status == 0, "\(quiet.stdout)")
        #expect(!quiet.stderr.contains("warning"), "\(quiet.stderr)")
        for secret in secrets { #expect(!(quiet.stdout + quiet.stderr).contains(secret)) }
    }
}
