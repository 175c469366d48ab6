import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Off-site settings through the real backup-api: the secret goes in and never comes out")
struct OffsiteSettingsLiveTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test("PUT takes the secret; no response, no log line at trace level holds it; read-only and bad fields are 422")
    func secretNeverShown() async throws {
        let directory = TemporaryDirectory("live-offsite-settings")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        // The environment's secret too must stay out of every answer and log line.
        let environmentSecret = "EnvironmentSecret/9876543210zyxwvutsrqponm"
        let server = try LiveServer(
            dataDirectory: directory.path, extraArguments: ["--log-level", "trace"],
            environment: ["AWS_SECRET_ACCESS_KEY": environmentSecret])
        try await server.waitUntilReady()
        let requests = RecordedRequests(server)

        let change = """
            {"offsite": {"enabled": true, "endpoint": "http://127.0.0.1:9", "bucket": "team-backups",
             "prefix": "prod/", "path_style": true, "access_key_id": "AKIAIOSFODNN7EXAMPLE", "keep_last": 3,
             "secret_access_key": "\(Self.secret)"}}
            """
        let (preview, previewStatus) = try await requests.send("PUT", "/api/settings/backup?dry_run=true", change)
        #expect(previewStatus == 200, "\(preview)")
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.offsiteSecret.path))
        let (saved, savedStatus) = try await requests.send("PUT", "/api/settings/backup", change)
        #expect(savedStatus == 200, "\(saved)")
        let settings = try server.decode(BackupSettings.self, Data(saved.utf8))
        #expect(settings.offsite.enabled && settings.offsite.secretAccessKeySet)
        #expect(settings.offsite.prefix == "prod" && settings.offsite.retention.keepLast == 3)
        #expect(saved.contains(#""secret_access_key_set":true"#))

        let (shown, _) = try await requests.send("GET", "/api/settings/backup")
        #expect(try server.decode(BackupSettings.self, Data(shown.utf8)) == settings)

        // GET's answer goes back as it is; a read-only flag that says otherwise is refused.
        let (again, againStatus) = try await requests.send("PUT", "/api/settings/backup", shown)
        #expect(againStatus == 200, "\(again)")
        let (readOnly, readOnlyStatus) = try await requests.send(
            "PUT", "/api/settings/backup", #"{"offsite": {"secret_access_key_set": false}}"#)
        #expect(readOnlyStatus == 422)
        #expect(readOnly.contains(#""offsite.secret_access_key_set":"read-only field""#))
        let (bad, badStatus) = try await requests.send(
            "PUT", "/api/settings/backup",
            #"{"offsite": {"bucket": "Bad_Bucket", "endpoint": "https://s3.example.com/x", "secret_access_key": "two words"}}"#
        )
        #expect(badStatus == 422)
        for field in ["offsite.bucket", "offsite.endpoint", "offsite.secret_access_key"] {
            #expect(bad.contains("\"\(field)\""), "\(field) in \(bad)")
        }
        #expect(!bad.contains("two words"))

        #expect(settings.offsite.credentialsFromEnvironment)

        let (log, leaks) = requests.stop(searchingFor: [Self.secret, environmentSecret])
        #expect(log.contains(" trace "), "the server logged at trace level")
        #expect(leaks.isEmpty, "\(leaks)")
        #expect(
            try String(contentsOf: directory.dataDirectory.offsiteSecret, encoding: .utf8) == Self.secret + "\n")
    }
}
