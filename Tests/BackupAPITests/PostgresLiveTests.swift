import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("PostgreSQL through the real backup-api: the redacted URL shown, a backup completes, the password nowhere")
struct PostgresLiveTests {
    @Test(
        "--database postgresql://…: /api/status names the kind and the URL without its password, a backup through the API completes and verifies, and neither a response nor the trace log holds the password"
    )
    func statusBackupAndNoPassword() async throws {
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        try postgres.psql(
            "CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int); INSERT INTO ledger (amount) SELECT 1 FROM generate_series(1, 500)",
            database: "app")
        let directory = TemporaryDirectory("live-postgres")
        // The password in argv on purpose: the server warns about it and shows it nowhere else.
        let withPassword = postgres.urlText(database: "app", withPassword: true)
        let server = try LiveServer(
            dataDirectory: directory.path, extraArguments: ["--log-level", "trace", "--database", withPassword])
        try await server.waitUntilReady()
        let requests = RecordedRequests(server)
        let redacted = postgres.url(database: "app", withPassword: false).redacted

        let (status, statusCode) = try await requests.send("GET", "/api/status")
        #expect(statusCode == 200)
        struct Status: Decodable {
            struct Database: Decodable {
                var kind: String
                var location: String
            }
            var database: Database
        }
        let shown = try JSONDecoder().decode(Status.self, from: Data(status.utf8)).database
        #expect(shown.kind == "postgresql")
        #expect(shown.location == redacted, "\(shown.location)")

        let (started, startedCode) = try await requests.send("POST", "/api/backups", #"{"note": "from the API"}"#)
        #expect(startedCode == 202, "\(started)")
        let pending = try server.decode(BackupInfo.self, Data(started.utf8))
        let info = try await server.waitForCompletion(id: pending.id)
        #expect(info.status == .completed, "\(info.error ?? "")")
        let (verify, verifyCode) = try await requests.send("POST", "/api/backups/\(info.id)/verify")
        #expect(verifyCode == 202, "\(verify)")
        let summary = try await server.waitForVerification(id: info.id)
        #expect(summary.ok, "\(summary)")
        for path in [
            "/api/backups", "/api/backups/\(info.id)", "/api/backups/stats", "/api/settings/backup", "/api/status",
        ] {
            let (_, code) = try await requests.send("GET", path)
            #expect(code == 200, "\(path)")
        }

        let encoded = String(withPassword.split(separator: "@")[0].split(separator: ":")[2])
        let (log, leaks) = requests.stop(searchingFor: [postgres.password, encoded])
        #expect(log.contains(" trace "), "the server logged at trace level")
        #expect(log.contains(redacted), "the start-up log names the database")
        #expect(log.contains("the password in --database is visible"), "the warning is logged")
        #expect(leaks.isEmpty, "\(leaks)")
    }

    @Test(
        "restore through the API: 202, the server drains, restores with pg_restore and restarts; the deleted rows are back, a pre-restore backup is listed and writers_waited_ms is null"
    )
    func restoreThroughTheAPI() async throws {
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        try postgres.psql(
            "CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int); INSERT INTO ledger (amount) SELECT 1 FROM generate_series(1, 500)",
            database: "app")
        let directory = TemporaryDirectory("live-postgres-restore")
        // The password only in the environment, as an operator should give it.
        let server = try LiveServer(
            dataDirectory: directory.path,
            extraArguments: ["--database", postgres.urlText(database: "app", withPassword: false)],
            environment: ["PGPASSWORD": postgres.password])
        try await server.waitUntilReady()
        let info = try await server.backupAndWait()
        #expect(info.status == .completed, "\(info.error ?? "")")
        try postgres.psql("DELETE FROM ledger WHERE id <= 100", database: "app")
        #expect(try postgres.psql("SELECT count(*) FROM ledger", database: "app") == "400")

        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        struct Status: Decodable {
            var state: String
            var last_restore: RestoreOutcome?
        }
        var restored: Status?
        for _ in 0..<3000 {
            if let (data, response) = try? await server.request("GET", "/api/status"), response.statusCode == 200,
                let status = try? server.decode(Status.self, data), status.last_restore != nil, status.state == "ready"
            {
                restored = status
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let outcome = try #require(restored?.last_restore)
        #expect(outcome.outcome == .succeeded, "\(outcome.error ?? "")")
        #expect(outcome.backupID == info.id)
        #expect(outcome.writersWaitedMs == nil)
        #expect(try postgres.psql("SELECT count(*) FROM ledger", database: "app") == "500")
        struct Page: Decodable { var items: [BackupInfo] }
        let safety = try server.decode(Page.self, try await server.request("GET", "/api/backups?type=pre-restore").0)
        #expect(safety.items.count == 1 && safety.items.first?.id == outcome.safetyBackupID)
        #expect(server.terminate().status == 0)
    }

    @Test("backup-api refuses a --database URL that does not parse, naming the option and not the password")
    func badURL() throws {
        let directory = TemporaryDirectory("live-postgres-bad-url")
        let secret = "s3cret-\(UUID().uuidString.prefix(8))"
        let result = try ChildProcess(product: "backup-api").run(
            ["--port", "0", "--data-dir", directory.path, "--database", "postgresql://app:\(secret)@[::1/app"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--database"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(secret))
    }
}
