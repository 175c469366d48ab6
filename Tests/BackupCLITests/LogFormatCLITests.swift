import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup --log-format, as a real process: log lines on stderr, in the format asked for")
struct LogFormatCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let noEnvironment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "BACKUP_LOG_FORMAT": ""]

    /// A data directory whose off-site target is a closed loopback port: each create logs the
    /// failed upload.
    func directoryWithDeadTarget(_ name: String) async throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(name)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let set = try await backup.runOffPool(
            [
                "settings", "set", "offsite.enabled=true", "offsite.endpoint=http://127.0.0.1:9",
                "offsite.bucket=team-backups", "offsite.path_style=true", "offsite.access_key_id=AKIAIOSFODNN7EXAMPLE",
                "offsite.secret_access_key=-", "--data-dir", directory.path,
            ], environment: Self.noEnvironment, input: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
        #expect(set.status == 0, "\(set.stderr)")
        return directory
    }

    @Test(
        "--log-format json (before the subcommand too): the failed upload is a JSON line on stderr; stdout holds only the result"
    )
    func jsonLines() async throws {
        let directory = try await directoryWithDeadTarget("cli-log-json")
        let created = try await backup.runOffPool(
            ["--log-format", "json", "create", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        #expect(info.offsite.status == .failed)
        let lines = created.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String, "\(line)")
        }
        #expect(created.stderr.contains(#""message":"off-site upload failed""#), "\(created.stderr)")
        #expect(created.stderr.contains(#""backup_id":"\#(info.id)""#))

        let fromEnvironment = try await backup.runOffPool(
            ["create", "--data-dir", directory.path],
            environment: Self.noEnvironment.merging(["BACKUP_LOG_FORMAT": "json"]) { $1 })
        #expect(fromEnvironment.status == 0)
        #expect(fromEnvironment.stderr.hasPrefix("{\"time\":"), "\(fromEnvironment.stderr)")
    }

    @Test("the default text lines go to stderr too, never into stdout")
    func textOnStandardError() async throws {
        let directory = try await directoryWithDeadTarget("cli-log-text")
        let created = try await backup.runOffPool(
            ["create", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(!created.stdout.contains("off-site upload failed"), "\(created.stdout)")
        #expect(created.stderr.contains("off-site upload failed"), "\(created.stderr)")
        _ = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
    }

    @Test("a format that is neither is a usage error (exit 2) naming --log-format, from the option or the environment")
    func badFormat() async throws {
        let directory = TemporaryDirectory("cli-log-bad")
        let option = try await backup.runOffPool(["list", "--log-format", "xml", "--data-dir", directory.path])
        #expect(option.status == 2)
        #expect(option.stderr.contains("--log-format must be text or json"), "\(option.stderr)")
        let environment = try await backup.runOffPool(
            ["list", "--data-dir", directory.path], environment: ["BACKUP_LOG_FORMAT": "yaml"])
        #expect(environment.status == 2)
        #expect(environment.stderr.contains("--log-format"), "\(environment.stderr)")
    }
}
