import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("backup-api --log-format json, as a real process: only JSON lines, no secret in any")
struct JSONLogLiveTests {
    @Test(
        "requests, a refused one, a failing one, a backup and a shutdown: every line of stdout and stderr is a JSON object with time, level and message; the backup's line carries its id, job, duration and bytes"
    )
    func everyLineIsJSON() async throws {
        let directory = TemporaryDirectory("live-json-logs")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(
            dataDirectory: directory.path, extraArguments: ["--log-format", "json", "--log-level", "debug"])
        try await server.waitUntilReady()
        #expect(try await server.request("GET", "/api/backups").1.statusCode == 200)
        #expect(try await server.request("GET", "/api/backups", authorized: false).1.statusCode == 401)
        let failing = try await server.request("POST", "/api/backups/20990101-000000-nothing/verify").1.statusCode
        #expect((400..<500).contains(failing))
        #expect(try await server.request("GET", "/settings/backup").1.statusCode < 500)
        let info = try await server.backupAndWait()
        #expect(info.status == .completed)
        let result = server.terminate()

        let (objects, others) = LogLines.parse(result.stdout + result.stderr)
        #expect(others.isEmpty, "lines that are not JSON objects: \(others)")
        #expect(objects.count >= 4)
        for object in objects {
            #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(object)")
        }
        #expect(objects.contains { $0["message"] as? String == "backup-api listening" })
        #expect(objects.contains { $0["message"] as? String == "backup-api stopped" })
        let ended = try #require(objects.first { $0["backup_id"] as? String == info.id && $0["job"] != nil })
        #expect(ended["job"] as? String == "backup" && ended["state"] as? String == "completed")
        #expect(Double(ended["duration_seconds"] as? String ?? "") != nil && ended["bytes"] != nil, "\(ended)")
    }

    @Test(
        "BACKUP_LOG_FORMAT=json: a command line that does not parse is one JSON line naming the option; a bad format is refused naming --log-format"
    )
    func badCommandLines() throws {
        let api = try ChildProcess(product: "backup-api")
        let directory = TemporaryDirectory("live-json-logs-usage")
        let refused = try api.run(
            ["--data-dir", directory.path, "--port", "70000"], environment: ["BACKUP_LOG_FORMAT": "json"])
        #expect(refused.status != 0)
        let (objects, others) = LogLines.parse(refused.stdout + refused.stderr)
        #expect(others.isEmpty && objects.count == 1, "\(refused)")
        #expect((objects.first?["message"] as? String)?.contains("--port") == true, "\(objects)")
        #expect(objects.first?["level"] as? String == "error")

        let badFormat = try api.run(["--data-dir", directory.path, "--log-format", "xml"])
        #expect(badFormat.status != 0)
        #expect(badFormat.stderr.contains("--log-format must be text or json"), "\(badFormat.stderr)")
    }

    @Test(
        "at trace level in JSON: the API token, the S3 secret (environment and PUT), the age identity, the passphrase and a PostgreSQL password appear in no line"
    )
    func secretsNeverLogged() async throws {
        let directory = TemporaryDirectory("live-json-secrets")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        _ = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
        let identity = try #require(
            try String(contentsOf: directory.dataDirectory.backupKey, encoding: .utf8).split(separator: "\n").last
                .map(String.init))
        let passphrase = "JSON log passphrase \(UUID().uuidString)"
        let environmentSecret = "EnvironmentSecret/JSONlogs0123456789abcdefgh"
        let secret = "PutSecret/JSONlogs9876543210zyxwvutsrqponm"
        let token = "json-log-token-\(UUID().uuidString)"
        let botToken = "123456789:AAJSONlogs-\(UUID().uuidString)"
        let server = try LiveServer(
            dataDirectory: directory.path, token: token,
            extraArguments: ["--log-format", "json", "--log-level", "trace"],
            environment: ["BACKUP_PASSPHRASE": passphrase, "AWS_SECRET_ACCESS_KEY": environmentSecret])
        try await server.waitUntilReady()
        let requests = RecordedRequests(server)
        let (saved, status) = try await requests.send(
            "PUT", "/api/settings/backup",
            """
            {"encryption": {"enabled": true},
             "offsite": {"enabled": true, "endpoint": "http://127.0.0.1:9", "bucket": "team-backups",
             "path_style": true, "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "\(secret)"},
             "alerts": {"telegram_bot_token": "\(botToken)", "telegram_chat_id": "-100123",
             "telegram_api_base": "http://127.0.0.1:9", "on_success": true}}
            """)
        #expect(status == 200, "\(saved)")
        let info = try await server.backupAndWait()
        #expect(info.status == .completed && info.encrypted)
        // The upload to the closed port fails and is logged, with its error.
        for _ in 0..<3000 {
            let shown = try server.decode(BackupInfo.self, try await server.request("GET", "/api/backups/\(info.id)").0)
            if shown.offsite.status == .failed { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let (log, leaks) = requests.stop(searchingFor: [
            token, secret, environmentSecret, identity, passphrase, botToken,
        ])
        #expect(leaks.isEmpty, "\(leaks)")
        let (objects, others) = LogLines.parse(log)
        #expect(others.isEmpty, "\(others)")
        #expect(objects.contains { $0["level"] as? String == "trace" }, "the server logged at trace level")
        #expect(objects.contains { $0["message"] as? String == "off-site upload failed" })

        // A PostgreSQL password given on the command line: warned about, never written out, even
        // when the database cannot be reached.
        let password = "PgSecret-\(UUID().uuidString)"
        let postgres = try LiveServer(
            dataDirectory: TemporaryDirectory("live-json-secrets-pg").path,
            extraArguments: [
                "--log-format", "json", "--log-level", "trace",
                "--database", "postgresql://backup:\(password)@127.0.0.1:\(try LiveServer.freePort())/app",
            ])
        try? await postgres.waitUntilReady()
        let ended = postgres.terminate()
        let pgLog = ended.stdout + ended.stderr
        #expect(!pgLog.contains(password))
        let (pgObjects, pgOthers) = LogLines.parse(pgLog)
        #expect(pgOthers.isEmpty, "\(pgOthers)")
        #expect(
            pgObjects.contains { ($0["message"] as? String)?.contains("password in --database") == true }, "\(pgLog)")
    }
}

/// A log split into its lines: those that parse as JSON objects, and the others.
enum LogLines {
    static func parse(_ log: String) -> (objects: [[String: Any]], others: [String]) {
        var objects: [[String: Any]] = []
        var others: [String] = []
        for line in log.split(separator: "\n", omittingEmptySubsequences: true) {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                objects.append(object)
            } else {
                others.append(String(line))
            }
        }
        return (objects, others)
    }
}
