import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup doctor, as a real process: OK/WARN/FAIL lines with fixes, exit 0/1, read-only")
struct DoctorCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let environment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "BACKUP_LOG_FORMAT": ""]

    /// A data directory as a server leaves it: mode 0700, a backup made, an API token 0600.
    func healthyDirectory(_ label: String) async throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try await backup.runOffPool(
            ["create", "--data-dir", directory.path], environment: Self.environment)
        #expect(created.status == 0, "\(created.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        try Data("doctor-token-0123456789abcdef\n".utf8).write(to: directory.dataDirectory.apiToken)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600], ofItemAtPath: directory.dataDirectory.apiToken.path)
        return directory
    }

    /// Every file under `directory` with its size and modification time.
    func snapshot(_ directory: TemporaryDirectory) throws -> [String] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory.path))
        return try enumerator.compactMap { $0 as? String }.sorted().map { path in
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/" + path)
            return "\(path) \(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? "")"
        }
    }

    @Test("a healthy data directory: every line OK, exit 0, and nothing in the directory changed")
    func healthy() async throws {
        let directory = try await healthyDirectory("doctor-healthy")
        let before = try snapshot(directory)
        let result = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path], environment: Self.environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        for name in ["data-directory", "free-space", "database", "api-token", "catalog", "offsite", "last-success"] {
            #expect(lines.contains { $0.hasPrefix("OK   \(name): ") }, "\(name) in \(result.stdout)")
        }
        #expect(!result.stdout.contains("WARN") && !result.stdout.contains("FAIL"), "\(result.stdout)")
        #expect(result.stdout.contains("journal_mode=wal"))
        #expect(try snapshot(directory) == before, "doctor changed the data directory")

        let json = try await backup.runOffPool(
            ["doctor", "--json", "--data-dir", directory.path], environment: Self.environment)
        #expect(json.status == 0)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect(report["healthy"] as? Bool == true)
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.contains { $0["name"] as? String == "api-token" && $0["status"] as? String == "ok" })
    }

    @Test("an api-token others may read: FAIL naming the file, the chmod fix, exit 1 (--json: healthy false)")
    func worldReadableToken() async throws {
        let directory = try await healthyDirectory("doctor-token")
        let token = directory.dataDirectory.apiToken.path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: token)
        let result = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path], environment: Self.environment)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("FAIL api-token: \(token) is readable by group or others (mode 0644)"),
            "\(result.stdout)")
        #expect(result.stdout.contains("fix: chmod 600 \(token)"))
        let json = try await backup.runOffPool(
            ["doctor", "--json", "--data-dir", directory.path], environment: Self.environment)
        #expect(json.status == 1)
        #expect(
            json.stdout.contains(#""healthy" : false"#) || json.stdout.contains(#""healthy":false"#), "\(json.stdout)")
    }

    @Test("a Telegram bot token file others may read: FAIL telegram-token naming it, exit 1, the token never printed")
    func worldReadableBotToken() async throws {
        let directory = try await healthyDirectory("doctor-bot-token")
        let botToken = "123456789:AAdoctor-\(UUID().uuidString)"
        let set = try await backup.runOffPool(
            ["settings", "set", "alerts.telegram_bot_token=-", "--data-dir", directory.path],
            environment: Self.environment, input: botToken + "\n")
        #expect(set.status == 0, "\(set.stderr)")
        let file = directory.dataDirectory.telegramToken.path
        #expect(
            try await backup.runOffPool(["doctor", "--data-dir", directory.path], environment: Self.environment).status
                == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let result = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path], environment: Self.environment)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("FAIL telegram-token: \(file) is readable by group or others"), "\(result.stdout)")
        #expect(!(result.stdout + result.stderr).contains(botToken))
    }

    @Test("off-site copies on with a target nothing answers at: FAIL offsite, exit 1; a 0755 data directory only warns")
    func deadOffsiteTarget() async throws {
        let directory = try await healthyDirectory("doctor-offsite")
        let set = try await backup.runOffPool(
            [
                "settings", "set", "offsite.enabled=true", "offsite.endpoint=http://127.0.0.1:9",
                "offsite.bucket=team-backups", "offsite.path_style=true", "offsite.access_key_id=AKIAIOSFODNN7EXAMPLE",
                "offsite.secret_access_key=-", "--data-dir", directory.path,
            ], environment: Self.environment, input: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
        #expect(set.status == 0, "\(set.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let result = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path], environment: Self.environment)
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL offsite: "), "\(result.stdout)")
        #expect(result.stdout.contains("WARN data-directory: "), "\(result.stdout)")
        #expect(result.stdout.contains("OK   offsite-secret: "), "\(result.stdout)")
        #expect(!result.stdout.contains("wJalrXUtnFEMI"))
    }

    @Test(
        "a PostgreSQL database: OK with the server's and pg_dump's versions; a wrong password is FAIL database, exit 1, and neither password is printed"
    )
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let directory = TemporaryDirectory("doctor-postgres")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let url = server.urlText(withPassword: false)
        let healthy = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path, "--database", url],
            environment: Self.environment.merging(["PGPASSWORD": server.password]) { $1 })
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("OK   database: \(url) (PostgreSQL "), "\(healthy.stdout)")
        #expect(healthy.stdout.contains(", pg_dump "))

        let wrong = "wrong-\(UUID().uuidString)"
        let refused = try await backup.runOffPool(
            ["doctor", "--data-dir", directory.path, "--database", url],
            environment: Self.environment.merging(["PGPASSWORD": wrong]) { $1 })
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("FAIL database: "), "\(refused.stdout)")
        for output in [healthy.stdout, healthy.stderr, refused.stdout, refused.stderr] {
            #expect(!output.contains(server.password) && !output.contains(wrong))
        }
    }

    @Test("a data directory that does not exist: a clear error, exit 1, and nothing created")
    func missingDirectory() async throws {
        let parent = TemporaryDirectory("doctor-missing")
        let missing = parent.path + "/nowhere"
        let result = try await backup.runOffPool(["doctor", "--data-dir", missing], environment: Self.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("there is no data directory at \(missing)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
