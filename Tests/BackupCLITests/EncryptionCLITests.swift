import BackupCore
import Foundation
import TestSupport
import Testing

/// Encryption at rest in the age format, as an operator would use it: the real `backup`
/// executable, Debian's `age` as the independent reader.
@Suite("backup key / encryption.* / encrypted bundles, as real processes")
struct EncryptionCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let age = "/usr/bin/age"

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    /// A data directory with a 2 MB database, its key generated and encryption on.
    func encryptedDirectory(_ label: String) throws -> (TemporaryDirectory, recipient: String) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let generated = try backup.run(["key", "generate", "--json", "--data-dir", directory.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        struct Key: Decodable {
            var recipient: String
            var identity_file: String
        }
        let key = try JSONDecoder().decode(Key.self, from: Data(generated.stdout.utf8))
        #expect(key.recipient.hasPrefix("age1"))
        #expect(key.identity_file == directory.dataDirectory.backupKey.path)
        let set = try backup.run(["settings", "set", "encryption.enabled=true", "--data-dir", directory.path])
        #expect(set.status == 0, "\(set.stderr)")
        return (directory, key.recipient)
    }

    func create(_ directory: TemporaryDirectory, environment: [String: String] = [:]) throws -> BackupInfo {
        let created = try backup.run(["create", "--json", "--data-dir", directory.path], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        return try json(BackupInfo.self, created)
    }

    /// A 0600 file holding `text`.
    func privateFile(_ text: String, named name: String, in directory: TemporaryDirectory) throws -> URL {
        let url = directory.url.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return url
    }

    /// Runs `script` with `sh -c` in `directory`; its exit status.
    func shell(_ script: String, in directory: URL) -> Int32 {
        Process.run("/bin/sh", ["-c", script], in: directory)
    }

    @Test(
        "acceptance: key generate, encryption.enabled=true, create: an age bundle with no clear text that sha256sum -c passes and age -d -i opens"
    )
    func newOperator() throws {
        let (directory, recipient) = try encryptedDirectory("enc-accept")
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: directory.dataDirectory.backupKey.path)[
                .posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let shown = try backup.run(["key", "show", "--data-dir", directory.path])
        #expect(shown.stdout == recipient + "\n")

        let info = try create(directory)
        #expect(info.encrypted)
        #expect(info.filename.hasSuffix("-manual-\(info.id).tar.gz.age"))
        let backups = directory.url.appendingPathComponent("backups")
        let bundle = try Data(contentsOf: backups.appendingPathComponent(info.filename))
        #expect(bundle.starts(with: Array("age-encryption.org/v1\n".utf8)))
        #expect(bundle.range(of: Data("SQLite format 3".utf8)) == nil)
        #expect(bundle.range(of: Data("manifest.json".utf8)) == nil)
        #expect(Process.run("/usr/bin/sha256sum", ["-c", info.filename + ".sha256"], in: backups) == 0)

        let out = directory.url.appendingPathComponent("opened")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let opened = shell(
            "\(Self.age) -d -i '\(directory.dataDirectory.backupKey.path)' '\(backups.path)/\(info.filename)' | tar -xz",
            in: out)
        #expect(opened == 0)
        let database = out.appendingPathComponent("database.sqlite").path
        #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"])
        #expect(try TestDB.fingerprint(database) == TestDB.fingerprint(directory.dataDirectory.database.path))

        // The list and --json say so; verify reads it back.
        let table = try backup.run(["list", "--data-dir", directory.path])
        #expect(table.stdout.contains("ENC") && table.stdout.contains("age"), "\(table.stdout)")
        #expect(try backup.run(["verify", info.id, "--data-dir", directory.path]).status == 0)

        // A key is never overwritten.
        let again = try backup.run(["key", "generate", "--data-dir", directory.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"), "\(again.stderr)")
        #expect(try backup.run(["key", "show", "--data-dir", directory.path]).stdout == recipient + "\n")
    }

    @Test(
        "acceptance: with the key moved away restore fails and leaves the database's bytes unchanged; --identity the moved file restores"
    )
    func restoreWithoutAndWithIdentity() throws {
        let (directory, _) = try encryptedDirectory("enc-restore")
        let info = try create(directory)
        let live = directory.dataDirectory.database
        let fingerprint = try TestDB.fingerprint(live.path)
        try TestDB.execute(live.path, "DELETE FROM account WHERE id > 50")
        let changed = try Data(contentsOf: live)

        let moved = directory.url.appendingPathComponent("safe-key")
        try FileManager.default.moveItem(at: directory.dataDirectory.backupKey, to: moved)
        let refused = try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("age: the bundle is encrypted and no key was given"), "\(refused.stderr)")
        #expect(try Data(contentsOf: live) == changed, "the database's bytes are unchanged")
        // Not the bundle's fault: its record does not say it failed verification.
        let shown = try json(
            BackupInfo.self, try backup.run(["show", info.id, "--json", "--data-dir", directory.path]))
        #expect(shown.verification == nil)

        let restored = try backup.run([
            "restore", info.id, "--yes", "--identity", moved.path, "--data-dir", directory.path,
        ])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try TestDB.fingerprint(live.path) == fingerprint)
        // The safety backup, with no key file here, is encrypted to the identity given.
        let listed = try json(
            [BackupInfo].self,
            try backup.run(["list", "--json", "--type", "pre-restore", "--data-dir", directory.path]))
        let safety = try #require(listed.first)
        #expect(safety.encrypted)
        let verified = try backup.run(["verify", safety.id, "--identity", moved.path, "--data-dir", directory.path])
        #expect(verified.status == 0, "\(verified.stdout)")
    }

    @Test("acceptance: a flipped byte anywhere in an encrypted bundle makes verify exit 3, naming the cause")
    func flippedByte() throws {
        let (directory, _) = try encryptedDirectory("enc-flip")
        let info = try create(directory)
        let url = directory.url.appendingPathComponent("backups/\(info.filename)")
        let original = try Data(contentsOf: url)
        // In the header (its MAC no longer matches), and in the payload (a chunk fails).
        for (offset, cause) in [(30, "age:"), (original.count / 2, "age: chunk")] {
            var bytes = original
            bytes[offset] ^= 0x01
            try bytes.write(to: url)
            let failed = try backup.run(["verify", info.id, "--data-dir", directory.path])
            #expect(failed.status == 3, "offset \(offset): \(failed.stdout)")
            #expect(failed.stdout.contains(cause), "offset \(offset): \(failed.stdout)")
        }
        try original.write(to: url)
        #expect(try backup.run(["verify", info.id, "--data-dir", directory.path]).status == 0)
    }

    @Test(
        "passphrase mode: BACKUP_PASSPHRASE and passphrase_file encrypt to a passphrase that age opens; a second recipient opens the bundle"
    )
    func passphraseAndSecondRecipient() throws {
        let directory = TemporaryDirectory("enc-pass")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let plain = try create(directory)
        #expect(!plain.encrypted && plain.filename.hasSuffix(".tar.gz"))
        let passphrase = "correct horse battery staple \(UUID().uuidString)"
        let file = try privateFile(passphrase + "\n", named: "passphrase", in: directory)
        let set = try backup.run([
            "settings", "set", "encryption.enabled=true", "encryption.passphrase_file=\(file.path)", "--json",
            "--data-dir", directory.path,
        ])
        #expect(set.status == 0, "\(set.stderr)")
        let settings = try json(BackupSettings.self, set)
        #expect(settings.encryption.mode == .passphrase)
        #expect(!set.stdout.contains(passphrase))
        let fromFile = try create(directory)
        #expect(fromFile.encrypted)
        let environment = ["BACKUP_PASSPHRASE": passphrase + "-env"]
        let fromEnvironment = try create(directory, environment: environment)

        // One scrypt stanza alone (age's passphrase form; interoperability with pyrage is the
        // format's own test), and neither passphrase in the file.
        let backups = directory.url.appendingPathComponent("backups")
        for (info, secret) in [(fromFile, passphrase), (fromEnvironment, passphrase + "-env")] {
            let bytes = try Data(contentsOf: backups.appendingPathComponent(info.filename))
            #expect(bytes.range(of: Data("\n-> scrypt ".utf8)) != nil, "\(info.filename)")
            #expect(bytes.range(of: Data("\n-> X25519 ".utf8)) == nil, "\(info.filename)")
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
        }
        // Our own reader: the file's passphrase opens the first; the second needs the variable.
        #expect(try backup.run(["verify", fromFile.id, "--data-dir", directory.path]).status == 0)
        let locked = try backup.run(["verify", fromEnvironment.id, "--data-dir", directory.path])
        #expect(locked.status == 3)
        #expect(locked.stdout.contains("age: wrong passphrase") || locked.stderr.contains("age: wrong passphrase"))
        #expect(
            try backup.run(["verify", fromEnvironment.id, "--data-dir", directory.path], environment: environment)
                .status == 0)

        // Recipients mode with an offline second recipient made by age-keygen.
        let offline = directory.url.appendingPathComponent("offline-key.txt")
        #expect(Process.run("/usr/bin/age-keygen", ["-o", offline.path], in: directory.url) == 0)
        let offlineText = try String(contentsOf: offline, encoding: .utf8)
        let offlineRecipient = try #require(
            offlineText.split(separator: "\n").first { $0.hasPrefix("# public key: ") }?.dropFirst(14))
        #expect(try backup.run(["key", "generate", "--data-dir", directory.path]).status == 0)
        let switched = try backup.run([
            "settings", "set", "encryption.passphrase_file=", "encryption.recipients=\(offlineRecipient)",
            "--json", "--data-dir", directory.path,
        ])
        #expect(switched.status == 0, "\(switched.stderr)")
        #expect(try json(BackupSettings.self, switched).encryption.mode == .recipients)
        let twoKeys = try create(directory)
        let out = directory.url.appendingPathComponent("offline-opened")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(
            shell("\(Self.age) -d -i '\(offline.path)' '\(backups.path)/\(twoKeys.filename)' | tar -xz", in: out) == 0)
        #expect(
            try TestDB.strings(out.appendingPathComponent("database.sqlite").path, "PRAGMA integrity_check") == ["ok"])
        // Plain, passphrase and recipient bundles side by side: all verify.
        let all = try backup.run(
            ["verify", "--all", "--passphrase-file", file.path, "--data-dir", directory.path], environment: environment)
        #expect(all.status == 0, "\(all.stdout)")
    }

    @Test("import of an encrypted bundle into another data directory: refused without a key, taken with --identity")
    func importEncrypted() throws {
        let (directory, _) = try encryptedDirectory("enc-import-a")
        let info = try create(directory)
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        let target = TemporaryDirectory("enc-import-b")
        let refused = try backup.run(["import", bundle.path, "--data-dir", target.path])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(target.backupFiles().isEmpty)
        let imported = try backup.run([
            "import", bundle.path, "--identity", directory.dataDirectory.backupKey.path, "--json",
            "--data-dir", target.path,
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let record = try json(BackupInfo.self, imported)
        #expect(record.id == info.id && record.sha256 == info.sha256 && record.encrypted)
        #expect(record.filename.hasSuffix("-imported-\(info.id).tar.gz.age"))
    }

    @Test(
        "settings: a bad recipient, a relative or world-readable passphrase file, and enabling with no key are exit 2 naming the field"
    )
    func settingsValidation() throws {
        let directory = TemporaryDirectory("enc-settings")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        func refused(_ assignments: [String], field: String) throws {
            let result = try backup.run(["settings", "set"] + assignments + ["--json", "--data-dir", directory.path])
            #expect(result.status == 2, "\(assignments): \(result.stdout)")
            #expect(result.stdout.contains(field), "\(assignments): \(result.stdout)")
        }
        try refused(["encryption.enabled=true"], field: "backup key generate")
        try refused(["encryption.recipients=age1qqqq,nonsense"], field: "encryption.recipients[0]")
        try refused(["encryption.passphrase_file=relative/path"], field: "encryption.passphrase_file")
        let open = directory.url.appendingPathComponent("open-passphrase")
        try Data("secret words\n".utf8).write(to: open)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: open.path)
        try refused(["encryption.passphrase_file=\(open.path)"], field: "chmod 600")

        // A key, then it may be turned on; the settings show the recipient, never the identity.
        let key = try backup.run(["key", "generate", "--data-dir", directory.path])
        let recipient = key.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let on = try backup.run(["settings", "set", "encryption.enabled=true", "--json", "--data-dir", directory.path])
        #expect(on.status == 0, "\(on.stdout)")
        let settings = try json(BackupSettings.self, on)
        #expect(settings.encryption.recipient == recipient)
        #expect(settings.encryption.keyFile == directory.dataDirectory.backupKey.path)
        let identity = try #require(
            try String(contentsOf: directory.dataDirectory.backupKey, encoding: .utf8).split(separator: "\n").last)
        let shown = try backup.run(["settings", "show", "--data-dir", directory.path])
        #expect(shown.stdout.contains(recipient) && !shown.stdout.contains(String(identity)))

        // A key file others may read is refused when it is read.
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o644], ofItemAtPath: directory.dataDirectory.backupKey.path)
        let exposed = try backup.run(["key", "show", "--data-dir", directory.path])
        #expect(exposed.status == 1)
        #expect(exposed.stderr.contains("readable by other users"), "\(exposed.stderr)")
    }
}
