import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Encryption through the real backup-api: the recipient shown, never the identity or the passphrase")
struct EncryptionLiveTests {
    @Test(
        "GET shows the recipient and mode; bad fields are 422; a backup encrypted to BACKUP_PASSPHRASE says encrypted, downloads as ciphertext and verifies; no response or trace log line holds the identity or passphrase"
    )
    func settingsAndBackups() async throws {
        let directory = TemporaryDirectory("live-encryption")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let identity = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
        let identityLine = try #require(
            try String(contentsOf: directory.dataDirectory.backupKey, encoding: .utf8).split(separator: "\n").last)
        #expect(identityLine.hasPrefix("AGE-SECRET-KEY-1"))
        let passphrase = "Environment passphrase \(UUID().uuidString)"
        let server = try LiveServer(
            dataDirectory: directory.path, extraArguments: ["--log-level", "trace"],
            environment: ["BACKUP_PASSPHRASE": passphrase])
        try await server.waitUntilReady()
        let requests = RecordedRequests(server)

        let (shown, _) = try await requests.send("GET", "/api/settings/backup")
        let before = try server.decode(BackupSettings.self, Data(shown.utf8)).encryption
        #expect(before.recipient == identity.recipient.description)
        #expect(before.keyFile == directory.dataDirectory.backupKey.path)
        // BACKUP_PASSPHRASE wins: new bundles are encrypted to it alone (age allows nothing beside it).
        #expect(before.mode == .passphrase && !before.enabled && before.passphraseFromEnvironment)

        let (bad, badStatus) = try await requests.send(
            "PUT", "/api/settings/backup",
            #"{"encryption": {"recipients": ["age1notarecipient"], "passphrase_file": "relative"}}"#)
        #expect(badStatus == 422)
        for field in ["encryption.recipients[0]", "encryption.passphrase_file"] {
            #expect(bad.contains("\"\(field)\""), "\(field) in \(bad)")
        }
        let (readOnly, readOnlyStatus) = try await requests.send(
            "PUT", "/api/settings/backup", #"{"encryption": {"mode": "recipients"}}"#)
        #expect(readOnlyStatus == 422)
        #expect(readOnly.contains(#""encryption.mode":"read-only field""#))

        let (saved, savedStatus) = try await requests.send(
            "PUT", "/api/settings/backup", #"{"encryption": {"enabled": true}}"#)
        #expect(savedStatus == 200, "\(saved)")
        // GET's answer goes back as it is.
        let (again, againStatus) = try await requests.send("PUT", "/api/settings/backup", saved)
        #expect(againStatus == 200, "\(again)")

        let info = try await server.backupAndWait()
        #expect(info.status == .completed && info.encrypted)
        #expect(info.filename.hasSuffix(".tar.gz.age"))
        let (download, response) = try await server.request("GET", "/api/backups/\(info.id)/download")
        #expect(response.statusCode == 200)
        #expect(download.starts(with: Array("age-encryption.org/v1\n-> scrypt ".utf8)))
        #expect(response.value(forHTTPHeaderField: "Content-Type") == "application/octet-stream")
        let (verify, verifyStatus) = try await requests.send("POST", "/api/backups/\(info.id)/verify")
        #expect(verifyStatus == 202, "\(verify)")
        let summary = try await server.waitForVerification(id: info.id)
        #expect(summary.ok, "\(summary)")
        let (listed, _) = try await requests.send("GET", "/api/backups")
        #expect(listed.contains(#""encrypted":true"#))

        let (log, leaks) = requests.stop(searchingFor: [String(identityLine), passphrase])
        #expect(log.contains(" trace "), "the server logged at trace level")
        #expect(leaks.isEmpty, "\(leaks)")
    }

    @Test("the server refuses to start while DATA_DIR/backup-key is readable by others")
    func exposedKey() async throws {
        let directory = TemporaryDirectory("live-encryption-exposed")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        _ = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o640], ofItemAtPath: directory.dataDirectory.backupKey.path)
        let server = try LiveServer(dataDirectory: directory.path)
        await #expect(throws: (any Error).self) { try await server.waitUntilReady() }
        let result = server.terminate()
        #expect((result.stdout + result.stderr).contains("readable by other users"), "\(result.stderr)")
    }
}
