import Foundation

extension BackupService {
    /// `settings` with the key file's and the environment's state filled in: the key file's
    /// path and recipient, whether `BACKUP_PASSPHRASE` is set, and the ``EncryptionSettings/mode``
    /// new bundles are written in. A key file that cannot be read shows as a path without a
    /// recipient.
    func withKeyState(_ settings: EncryptionSettings) -> EncryptionSettings {
        var settings = settings
        let key = BackupKey(dataDirectory: dataDirectory)
        settings.keyFile = key.exists ? key.file.path : nil
        settings.recipient = key.exists ? (try? key.recipient())?.description : nil
        settings.passphraseFromEnvironment = encryptionEnvironment.passphrase != nil
        settings.mode = settings.hasPassphrase ? .passphrase : .recipients
        return settings
    }

    /// The keys that may open an encrypted bundle (read when one is met).
    func bundleKeys() throws(BackupError) -> BundleKeys {
        BundleKeys(
            given: givenKeys, keyFile: dataDirectory.backupKey,
            environmentPassphrase: encryptionEnvironment.passphrase,
            passphraseFile: try catalog.settings().encryption.passphraseFile)
    }

    /// What a new bundle is encrypted to under `settings`, or nil while encryption is off.
    ///
    /// A passphrase (`BACKUP_PASSPHRASE`, else `encryption.passphrase_file`) wins: age allows no
    /// recipient beside it. Otherwise the key file's recipient and every extra recipient.
    /// Fails when encryption is on and there is nothing to encrypt to, so no backup is ever
    /// written in the clear by mistake.
    func encryptionLock(_ settings: EncryptionSettings) throws(BackupError) -> AgeLock? {
        guard settings.enabled else { return nil }
        if let passphrase = encryptionEnvironment.passphrase {
            return .passphrase(passphrase.revealed)
        }
        if let file = settings.passphraseFile, !file.isEmpty {
            return .passphrase(try PassphraseFile.read(file))
        }
        var recipients: [AgeRecipient] = []
        if let own = try BackupKey(dataDirectory: dataDirectory).recipient() { recipients.append(own) }
        for (index, text) in settings.recipients.enumerated() {
            recipients.append(try AgeRecipient(parsing: text, field: "encryption.recipients[\(index)]"))
        }
        // No key file and no recipients (a data directory that lost its key, restoring with
        // `--identity`): the keys the operator gave, so the safety backup opens with them too.
        if recipients.isEmpty {
            for case .identity(let identity) in givenKeys { recipients.append(identity.recipient) }
            if recipients.isEmpty, case .passphrase(let passphrase)? = givenKeys.first {
                return .passphrase(passphrase)
            }
        }
        guard !recipients.isEmpty else {
            throw .invalidInput(fields: [
                "encryption.enabled":
                    "encryption is on but there is no key to encrypt to: run `backup key generate` "
                    + "(or set encryption.recipients, encryption.passphrase_file or "
                    + "\(EncryptionSettings.passphraseVariable))"
            ])
        }
        return .recipients(recipients)
    }
}
