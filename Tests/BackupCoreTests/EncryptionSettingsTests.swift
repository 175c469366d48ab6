import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Encryption: settings in the catalog (v12), the key file, .age names, bundles written and read through age")
struct EncryptionSettingsTests {
    @Test("a catalog made before v12 reads encryption as off; the state fields are never stored")
    func migrationAndStorage() throws {
        let directory = TemporaryDirectory("encryption-migration")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v11_offsite_copies")
        try queue.close()
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        #expect(try service.catalog.settings().encryption == EncryptionSettings())

        let identity = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
        let extra = AgeIdentity.generate().recipient.description
        var settings = try service.settings()
        #expect(settings.encryption.recipient == identity.recipient.description)
        settings.encryption.enabled = true
        settings.encryption.recipients = [extra]
        try service.saveSettings(settings)
        let stored = try service.catalog.read { db in
            try String.fetchOne(db, sql: "SELECT encryption FROM backup_settings")
        }
        #expect(stored?.contains(extra) == true)
        #expect(stored?.contains(identity.recipient.description) == false, "the key file's state is not stored")
        #expect(stored?.contains("key_file") == false || stored?.contains("null") == true)
        let shown = try service.settings().encryption
        #expect(shown.enabled && shown.recipients == [extra] && shown.mode == .recipients)
        #expect(shown.keyFile == directory.dataDirectory.backupKey.path)
    }

    @Test("KEY=VALUE words: recipients comma-separated, an empty passphrase_file removes it; the mode follows the rule")
    func patchAndMode() throws {
        let directory = TemporaryDirectory("encryption-patch")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        let (first, second) = (AgeIdentity.generate().recipient, AgeIdentity.generate().recipient)
        let patch = try SettingsPatch(assignments: [
            "encryption.recipients=\(first), \(second)", "encryption.enabled=yes",
        ])
        let applied = try patch.applied(to: try service.settings())
        #expect(applied.encryption.recipients == [first.description, second.description])
        try service.saveSettings(applied)
        #expect(try service.settings().encryption.mode == .recipients)
        #expect(throws: BackupError.self) { try SettingsPatch(assignments: ["encryption.enabled=maybe"]) }

        service.encryptionEnvironment = EncryptionEnvironment(["BACKUP_PASSPHRASE": "from the environment"])
        let withPassphrase = try service.settings().encryption
        #expect(withPassphrase.mode == .passphrase && withPassphrase.passphraseFromEnvironment)
        guard case .passphrase(let passphrase, _) = try service.encryptionLock(withPassphrase) else {
            Issue.record("BACKUP_PASSPHRASE does not win")
            return
        }
        #expect(passphrase == "from the environment")

        // A passphrase file beside recipients is refused; with none of them, enabling is refused.
        let file = directory.url.appendingPathComponent("passphrase")
        try Data("words\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let both = try SettingsPatch(assignments: ["encryption.passphrase_file=\(file.path)"])
            .applied(to: try service.settings())
        #expect(
            throws: BackupError.invalidInput(fields: [
                "encryption.recipients":
                    "cannot be combined with encryption.passphrase_file: age encrypts to a passphrase alone"
            ])
        ) { try service.saveSettings(both) }
        service.encryptionEnvironment = EncryptionEnvironment([:])
        let none = try SettingsPatch(assignments: ["encryption.recipients="]).applied(to: try service.settings())
        do {
            try service.saveSettings(none)
            Issue.record("enabled with no key")
        } catch .invalidInput(let fields) {
            #expect(fields["encryption.enabled"]?.contains("backup key generate") == true, "\(fields)")
        }
    }

    @Test("bundle names: .tar.gz.age and .tar.zst.age parse as encrypted; plain names as before")
    func names() throws {
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        for codec in CodecName.allCases {
            for encrypted in [false, true] {
                let name = BundleName.make(
                    id: "0123456789abcdef", type: .manual, createdAt: date, codec: codec, encrypted: encrypted)
                #expect(name.hasSuffix(codec.fileExtension + (encrypted ? ".age" : "")))
                let parts = try #require(BundleName.parse(name))
                #expect(parts.codec == codec && parts.encrypted == encrypted && parts.id == "0123456789abcdef")
                #expect(parts.createdAt == date)
            }
        }
        #expect(BundleName.parse("backup-20270115-080000-manual-0123456789abcdef.age") == nil)
        #expect(BundleName.parse("backup-20270115-080000-manual-0123456789abcdef.tar.age") == nil)
    }

    @Test(
        "an encrypted backup: sidecar over the ciphertext, manifest over the plaintext; without a key verify throws and records nothing"
    )
    func writeAndRead() async throws {
        let directory = TemporaryDirectory("encryption-bundle")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        _ = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
        var settings = try service.settings()
        settings.encryption.enabled = true
        settings.codec = .zstd
        settings.compressionLevel = 3
        try service.saveSettings(settings)
        let info = try await service.createBackup()
        #expect(info.encrypted && info.filename.hasSuffix(".tar.zst.age"))
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        let bytes = try Data(contentsOf: bundle)
        #expect(SHA256.hash(data: bytes).hexString == info.sha256)
        let sidecar = try String(contentsOf: URL(fileURLWithPath: bundle.path + ".sha256"), encoding: .utf8)
        #expect(sidecar.hasPrefix(info.sha256!))
        let report = try await service.verify(id: info.id)
        #expect(report.encrypted && report.codec == .zstd)
        // The manifest inside records the plaintext: the entry's hash was checked against it.
        #expect(report.isValid && report.manifest?.entries.contains { $0.path == "database.sqlite" } == true)

        let moved = directory.url.appendingPathComponent("moved-key")
        try FileManager.default.moveItem(at: directory.dataDirectory.backupKey, to: moved)
        await #expect(throws: BackupError.self) { try await service.verify(id: info.id) }
        #expect(try service.catalog.record(id: info.id).verificationError == nil)
        service.givenKeys = try BackupKey.readIdentities(moved).map(AgeKey.identity)
        #expect(try await service.verify(id: info.id).isValid)
    }
}

@Suite("Encryption: reconciliation never sets aside an encrypted bundle it cannot open")
struct EncryptionReconciliationTests {
    @Test("an unknown encrypted bundle stays in place while no key opens it, and is adopted once one does")
    func unknownEncryptedBundle() async throws {
        let source = TemporaryDirectory("encryption-reconcile-a")
        try SampleDatabase.create(at: source.dataDirectory.database, megabytes: 1)
        let maker = try BackupService(dataDirectory: source.dataDirectory)
        _ = try BackupKey(dataDirectory: source.dataDirectory).generate(now: Date())
        var settings = try maker.settings()
        settings.encryption.enabled = true
        try maker.saveSettings(settings)
        let info = try await maker.createBackup()

        // The bundle and its sidecar appear in another data directory's backups/, without a key.
        let target = TemporaryDirectory("encryption-reconcile-b")
        var service = try BackupService(dataDirectory: target.dataDirectory)
        for name in [info.filename, info.filename + ".sha256"] {
            try FileManager.default.copyItem(
                at: source.url.appendingPathComponent("backups/\(name)"),
                to: target.url.appendingPathComponent("backups/\(name)"))
        }
        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.quarantined.isEmpty && report.adopted.isEmpty, "\(report)")
        #expect(target.backupFiles() == [info.filename, info.filename + ".sha256"])

        service.givenKeys = try BackupKey.readIdentities(source.dataDirectory.backupKey).map(AgeKey.identity)
        let (again, adopted) = try service.beginJobReporting()
        again.release()
        #expect(adopted.adopted == [info.id])
        let record = try service.catalog.record(id: info.id)
        #expect(record.info.encrypted && record.sha256 == info.sha256)
    }
}
