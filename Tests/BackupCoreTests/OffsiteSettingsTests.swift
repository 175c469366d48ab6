import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Off-site settings: stored in the catalog, judged per field; the secret write-only, in its own 0600 file")
struct OffsiteSettingsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    /// Settings that may be switched on, but for the secret.
    static var configured: BackupSettings {
        var settings = BackupSettings()
        settings.offsite = OffsiteSettings(
            enabled: true, endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "team-backups",
            prefix: "prod/db/", pathStyle: true, accessKeyID: "AKIAIOSFODNN7EXAMPLE")
        return settings
    }

    @Test("a catalog made before v10 reads off-site copies as off, its other settings unchanged")
    func migrationDefaults() throws {
        let directory = TemporaryDirectory("offsite-migration")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v9: jobs in use and retention errors")
        try queue.write { db in try db.execute(sql: "UPDATE backup_settings SET enabled = 1, interval_hours = 6") }
        try queue.close()

        let settings = try Catalog(dataDirectory: directory.dataDirectory).settings()
        #expect(settings.enabled && settings.intervalHours == 6)
        #expect(settings.offsite == OffsiteSettings())
        #expect(
            !settings.offsite.enabled && settings.offsite.prefix == "backups" && settings.offsite.region == "us-east-1")
    }

    @Test("bad endpoints, buckets, regions, prefixes and counts are named by their JSON path")
    func formatsJudged() {
        var settings = BackupSettings()
        settings.offsite = OffsiteSettings(
            endpoint: "ftp://s3.example.com", region: "EU West", bucket: "My_Bucket", prefix: "/abs",
            accessKeyID: "AKIA EXAMPLE", caFile: "relative.pem",
            retention: RetentionPolicy(keepLast: -1, keepDays: 100_001))
        #expect(
            Set(settings.problems.keys) == [
                "offsite.endpoint", "offsite.region", "offsite.bucket", "offsite.prefix", "offsite.access_key_id",
                "offsite.ca_file", "offsite.keep_last", "offsite.keep_days",
            ])
        for endpoint in [
            "https://user:pw@s3.example.com", "https://s3.example.com/bucket", "https://s3.example.com?x=1",
            "s3.example.com",
        ] {
            #expect(OffsiteSettings.endpointProblem(endpoint) != nil, "\(endpoint)")
        }
        for endpoint in ["https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000", "https://minio.internal:9000/"]
        {
            #expect(OffsiteSettings.endpointProblem(endpoint) == nil, "\(endpoint)")
        }
        for bucket in ["ab", String(repeating: "a", count: 64), "-abc", "abc.", "a..b", "192.168.1.1", "a_b"] {
            #expect(OffsiteSettings.bucketProblem(bucket) != nil, "\(bucket)")
        }
        for bucket in ["abc", "my.bucket-01", String(repeating: "a", count: 63)] {
            #expect(OffsiteSettings.bucketProblem(bucket) == nil, "\(bucket)")
        }
        for prefix in ["a/../b", "a//b", "./a", "a\u{7}b", String(repeating: "p", count: 513)] {
            #expect(OffsiteSettings.prefixProblem(prefix) != nil, "\(prefix)")
        }
        for prefix in ["", "backups", "prod/db/", "a.b/c-d_e"] {
            #expect(OffsiteSettings.prefixProblem(prefix) == nil, "\(prefix)")
        }
    }

    @Test("switched on, the endpoint, bucket, access key id and secret must be there; each missing one is named")
    func enabledNeedsEverything() throws {
        let directory = TemporaryDirectory("offsite-required")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        var settings = BackupSettings()
        settings.offsite.enabled = true
        let error = #expect(throws: BackupError.self) { try service.saveSettings(settings) }
        guard case .invalidInput(let fields) = error else { return }
        #expect(
            Set(fields.keys) == [
                "offsite.endpoint", "offsite.bucket", "offsite.access_key_id", "offsite.secret_access_key",
            ])
        #expect(fields["offsite.secret_access_key"]?.contains("AWS_SECRET_ACCESS_KEY") == true)

        let missingSecret = #expect(throws: BackupError.self) { try service.saveSettings(Self.configured) }
        #expect(
            missingSecret
                == .invalidInput(fields: [
                    "offsite.secret_access_key":
                        "is required while offsite.enabled is true (or set AWS_SECRET_ACCESS_KEY)"
                ]))
        let saved = try service.saveSettings(Self.configured, secretChange: .set(SecretText(Self.secret)))
        #expect(saved.settings.offsite.prefix == "prod/db", "the trailing / is trimmed")
        #expect(saved.settings.offsite.secretAccessKeySet)
        #expect(try service.settings().offsite.enabled)
    }

    @Test("the secret is stored in DATA_DIR/offsite-secret with mode 0600, never in the catalog; empty removes it")
    func secretStoredApart() throws {
        let directory = TemporaryDirectory("offsite-secret")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        #expect(try !service.settings().offsite.secretAccessKeySet)

        let preview = try service.previewSettings(Self.configured, secretChange: .set(SecretText(Self.secret)))
        #expect(preview.settings.offsite.secretAccessKeySet)
        #expect(
            !FileManager.default.fileExists(atPath: directory.dataDirectory.offsiteSecret.path),
            "a preview stores nothing")

        try service.saveSettings(Self.configured, secretChange: .set(SecretText(Self.secret)))
        let file = directory.dataDirectory.offsiteSecret
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.secret + "\n")
        #expect(try OffsiteSecret(dataDirectory: directory.dataDirectory).read()?.revealed == Self.secret)
        service.catalog.close()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.dataDirectory.backups.path)
        where name.hasPrefix("catalog") {
            let bytes = try Data(contentsOf: directory.dataDirectory.backups.appendingPathComponent(name))
            #expect(bytes.range(of: Data(Self.secret.utf8)) == nil, "the secret is in \(name)")
        }

        let reopened = try BackupService(dataDirectory: directory.dataDirectory)
        let encoded = String(decoding: try JSONEncoder.backupManager().encode(try reopened.settings()), as: UTF8.self)
        #expect(!encoded.contains(Self.secret))
        #expect(encoded.contains(#""secret_access_key_set":true"#))

        var off = Self.configured
        off.offsite.enabled = false
        try reopened.saveSettings(off, secretChange: .remove)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(try !reopened.settings().offsite.secretAccessKeySet)
    }

    @Test("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY stand in for the stored key id and secret")
    func environmentOverrides() throws {
        let directory = TemporaryDirectory("offsite-environment")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT", "AWS_SECRET_ACCESS_KEY": Self.secret,
        ])
        var settings = Self.configured
        settings.offsite.accessKeyID = ""
        let saved = try service.saveSettings(settings).settings
        #expect(saved.offsite.secretAccessKeySet && saved.offsite.credentialsFromEnvironment)
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.offsiteSecret.path))
    }

    @Test("a bad secret is refused without being repeated, and nothing is stored")
    func badSecret() throws {
        let directory = TemporaryDirectory("offsite-bad-secret")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        let secret = "has a space"
        let error = #expect(throws: BackupError.self) {
            try service.saveSettings(Self.configured, secretChange: .set(SecretText(secret)))
        }
        #expect(error.map { $0.message.contains(secret) } == false)
        guard case .invalidInput(let fields) = error else { return }
        #expect(Set(fields.keys) == ["offsite.secret_access_key"])
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.offsiteSecret.path))
    }

    @Test("offsite.* words and the JSON body make the same change; - reads the secret, and only the secret")
    func patches() throws {
        let words = try SettingsPatch(
            assignments: [
                "offsite.enabled=on", "offsite.endpoint=http://127.0.0.1:9000", "offsite.bucket=team-backups",
                "offsite.prefix=prod/db", "offsite.path_style=true", "offsite.access_key_id=AKIAIOSFODNN7EXAMPLE",
                "offsite.keep_last=2", "offsite.secret_access_key=-",
            ], readSecret: { Self.secret })
        let json = try JSONDecoder().decode(
            SettingsPatch.self,
            from: Data(
                """
                {"offsite": {"enabled": true, "endpoint": "http://127.0.0.1:9000", "bucket": "team-backups",
                 "prefix": "prod/db", "path_style": true, "access_key_id": "AKIAIOSFODNN7EXAMPLE", "keep_last": 2,
                 "secret_access_key": "\(Self.secret)"}}
                """.utf8))
        #expect(try words.applied(to: BackupSettings()) == (try json.applied(to: BackupSettings())))
        #expect(words.secretChange == .set(SecretText(Self.secret)))
        #expect(json.secretChange == words.secretChange)
        #expect(try words.applied(to: BackupSettings()).offsite.retention.keepLast == 2)
        #expect(try SettingsPatch(assignments: ["offsite.secret_access_key="]).secretChange == .remove)
        #expect(try SettingsPatch(assignments: ["offsite.bucket=x"]).secretChange == nil)

        let dash = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["offsite.bucket=-", "offsite.keep_last=many"], readSecret: { "x" })
        }
        #expect(
            dash
                == .invalidInput(fields: [
                    "offsite.bucket":
                        "only offsite.secret_access_key and alerts.telegram_bot_token read - from standard input",
                    "offsite.keep_last": "must be an integer",
                ]))
        let empty = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["offsite.secret_access_key=-"], readSecret: { nil })
        }
        guard case .invalidInput(let fields) = empty else { return }
        #expect(fields["offsite.secret_access_key"]?.hasPrefix("standard input gave no secret") == true)
    }

    @Test("a secret in memory never shows in a description, a debug print or a dump")
    func secretTextHidden() {
        let text = SecretText(Self.secret)
        var dumped = ""
        dump(OffsiteSecret.Change.set(text), to: &dumped)
        for shown in [
            "\(text)", String(reflecting: text), dumped,
            "\(OffsiteEnvironment(["AWS_SECRET_ACCESS_KEY": Self.secret]))",
        ] {
            #expect(!shown.contains(Self.secret), "\(shown)")
        }
    }
}
