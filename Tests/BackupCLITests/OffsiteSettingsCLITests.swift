import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup settings set offsite.…, as a real process: the secret from standard input, never printed")
struct OffsiteSettingsCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let noEnvironment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]

    @Test("offsite.secret_access_key=- reads standard input; show and --json say it is set and never print it")
    func secretFromStandardInput() throws {
        let directory = TemporaryDirectory("cli-offsite")
        let set = try backup.run(
            [
                "settings", "set", "offsite.enabled=true", "offsite.endpoint=http://127.0.0.1:9",
                "offsite.bucket=team-backups", "offsite.path_style=true", "offsite.access_key_id=AKIAIOSFODNN7EXAMPLE",
                "offsite.secret_access_key=-", "offsite.keep_last=2", "--data-dir", directory.path,
            ], environment: Self.noEnvironment, input: Self.secret + "\n")
        #expect(set.status == 0, "\(set.stderr)")
        let file = directory.dataDirectory.offsiteSecret
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.secret + "\n")
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)

        let json = try backup.run(
            ["settings", "show", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(json.stdout.utf8))
        #expect(settings.offsite.enabled && settings.offsite.secretAccessKeySet)
        #expect(settings.offsite.bucket == "team-backups" && settings.offsite.retention.keepLast == 2)
        let text = try backup.run(["settings", "show", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(text.stdout.contains("offsite.secret_access_key_set"))
        #expect(text.stdout.contains("offsite.bucket"))
        let setJSON = try backup.run(
            ["settings", "set", "offsite.keep_last=3", "--json", "--data-dir", directory.path],
            environment: Self.noEnvironment)
        #expect(setJSON.status == 0, "\(setJSON.stderr)")
        for result in [set, json, text, setJSON] {
            #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret))
        }

        let removed = try backup.run(
            ["settings", "set", "offsite.enabled=false", "offsite.secret_access_key=", "--data-dir", directory.path],
            environment: Self.noEnvironment)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test("- for another key, a missing secret or a bad bucket exit 2 naming the field")
    func usageErrors() throws {
        let directory = TemporaryDirectory("cli-offsite-usage")
        let dash = try backup.run(
            ["settings", "set", "offsite.bucket=-", "--data-dir", directory.path], input: "team-backups\n")
        #expect(dash.status == 2)
        #expect(
            dash.stderr.contains(
                "offsite.bucket: only offsite.secret_access_key and alerts.telegram_bot_token read - from standard input"
            ))
        let missing = try backup.run(
            [
                "settings", "set", "offsite.enabled=true", "offsite.endpoint=https://s3.example.com",
                "offsite.bucket=Bad_Bucket", "offsite.access_key_id=AKIAIOSFODNN7EXAMPLE", "--data-dir", directory.path,
            ], environment: Self.noEnvironment)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("offsite.secret_access_key: is required while offsite.enabled is true"))
        #expect(missing.stderr.contains("offsite.bucket: must be 3 to 63"))
        let emptyInput = try backup.run(
            ["settings", "set", "offsite.secret_access_key=-", "--data-dir", directory.path], input: "")
        #expect(emptyInput.status == 2)
        #expect(emptyInput.stderr.contains("offsite.secret_access_key: standard input gave no secret"))
    }

    @Test("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY stand in for the stored ones")
    func environmentCredentials() throws {
        let directory = TemporaryDirectory("cli-offsite-env")
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT", "AWS_SECRET_ACCESS_KEY": Self.secret]
        let set = try backup.run(
            [
                "settings", "set", "offsite.enabled=true", "offsite.endpoint=https://s3.eu-west-1.amazonaws.com",
                "offsite.region=eu-west-1", "offsite.bucket=team-backups", "--json", "--data-dir", directory.path,
            ], environment: environment)
        #expect(set.status == 0, "\(set.stderr)")
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(set.stdout.utf8))
        #expect(settings.offsite.secretAccessKeySet && settings.offsite.credentialsFromEnvironment)
        #expect(!set.stdout.contains(Self.secret) && !set.stdout.contains("AKIAFROMENVIRONMENT"))
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.offsiteSecret.path))
    }
}
