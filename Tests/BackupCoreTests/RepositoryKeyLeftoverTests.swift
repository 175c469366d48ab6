import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Incremental backups: a repository key a crash left without its config.json")
struct RepositoryKeyLeftoverTests {
    /// A data directory in format `incremental` with encryption on, and its operator key.
    static func encryptedFixture() throws -> (RepositoryWriterTests.Fixture, AgeIdentity) {
        let fixture = try RepositoryWriterTests.Fixture(rows: 5_000)
        let operatorKey = try BackupKey(dataDirectory: fixture.data.dataDirectory).generate(now: Date())
        var settings = try fixture.service.catalog.settings()
        settings.encryption.enabled = true
        try fixture.service.saveSettings(settings)
        return (fixture, operatorKey)
    }

    @Test(
        "a key without config.json and with no pack or index (the first backup killed between them) is replaced: the next backup completes and reads back"
    )
    func leftoverKeyReplaced() async throws {
        let (fixture, operatorKey) = try Self.encryptedFixture()
        let root = fixture.repository
        let key = root.appendingPathComponent(RepositoryLayout.keyFile)
        // What the killed first backup left: the key placed, no config (any bytes: nothing reads them).
        try FileManager.default.createDirectory(
            at: key.deletingLastPathComponent(), withIntermediateDirectories: true)
        let leftover = Data("age-encryption.org/v1 left by a killed backup\n".utf8)
        try leftover.write(to: key)

        let info = try await fixture.service.createBackup()
        #expect(info.status == .completed && info.encrypted)
        #expect(try Data(contentsOf: key) != leftover)
        let config = try JSONDecoder.backupManager().decode(
            RepositoryConfig.self, from: Data(contentsOf: root.appendingPathComponent(RepositoryLayout.config)))
        let identity = try RepositoryKey.unlock(at: root, keys: [.identity(operatorKey)])
        #expect(identity.recipient.description == config.recipient)
        #expect(try await fixture.service.verify(id: info.id, readData: true).isValid)
    }

    @Test("a key beside packs or indexes is never replaced, even without config.json: the backup is refused")
    func keyBesidePacksKept() async throws {
        let (fixture, _) = try Self.encryptedFixture()
        _ = try await fixture.service.createBackup()
        let root = fixture.repository
        let key = root.appendingPathComponent(RepositoryLayout.keyFile)
        let original = try Data(contentsOf: key)
        try FileManager.default.removeItem(at: root.appendingPathComponent(RepositoryLayout.config))

        await #expect(throws: BackupError.self) { try await fixture.service.createBackup() }
        #expect(try Data(contentsOf: key) == original)
    }
}
