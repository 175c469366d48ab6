import Foundation

/// Every key that may open an encrypted bundle, gathered in one place and read only when a
/// bundle turns out to be encrypted (a plain bundle never touches a key file): the keys the
/// operator gave (`--identity`, `--passphrase-file`), `DATA_DIR/backup-key`,
/// `BACKUP_PASSPHRASE` and `encryption.passphrase_file`.
public struct BundleKeys: Sendable {
    /// Keys given for this run, tried first.
    var given: [AgeKey] = []
    /// The data directory's key file, when there is a data directory.
    var keyFile: URL?
    var environmentPassphrase: SecretText?
    var passphraseFile: String?

    /// No key at all: an encrypted bundle is refused (tests, and readers of plain bundles).
    public static let none = BundleKeys()

    /// The keys, read now. A key file others may read is refused (as the API token is); a
    /// passphrase file that cannot be read is left out (the other keys may still open the bundle).
    func load() throws(BackupError) -> [AgeKey] {
        var keys = given
        if let keyFile, FileOps.exists(keyFile) {
            keys += try BackupKey.readIdentities(keyFile).map(AgeKey.identity)
        }
        if let environmentPassphrase { keys.append(.passphrase(environmentPassphrase.revealed)) }
        if let passphraseFile, let passphrase = try? PassphraseFile.read(passphraseFile) {
            keys.append(.passphrase(passphrase))
        }
        return keys
    }

    /// The failure of an encrypted bundle read with no key at all, naming where keys come from.
    var noKeyFailure: BackupError {
        let keyFile = self.keyFile?.path ?? "DATA_DIR/backup-key"
        return .verificationFailed(
            reason: "\(EncryptedBundle.noKeyPrefix) (\(keyFile), --identity or --passphrase-file)")
    }
}
