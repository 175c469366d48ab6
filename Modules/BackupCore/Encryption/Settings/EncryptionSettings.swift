import Foundation

/// Encryption at rest: whether new bundles are written inside age, and to what.
///
/// Part of ``BackupSettings`` (the JSON object `encryption`). Neither the private key nor a
/// passphrase is here: the identity lives in `DATA_DIR/backup-key` (``BackupKey``), a
/// passphrase in the file `passphraseFile` names or in `BACKUP_PASSPHRASE`; the settings only
/// say where they are and which one new bundles are encrypted with (``mode``).
///
/// The rule: a passphrase, when there is one (`passphrase_file`, or `BACKUP_PASSPHRASE`, which
/// overrides the file), encrypts new bundles (`mode` `passphrase`: age allows no recipient
/// beside it); otherwise they are encrypted to the key file's recipient and every one of
/// ``recipients`` (`mode` `recipients`). Reading tries every key there is, whatever the mode.
public struct EncryptionSettings: Equatable, Sendable {
    /// What new bundles are encrypted with.
    public enum Mode: String, Codable, Sendable {
        /// X25519 recipients: the key file's and ``EncryptionSettings/recipients``.
        case recipients
        /// An scrypt passphrase (work factor 18).
        case passphrase
    }

    /// Whether new bundles are encrypted (switching affects new backups only).
    public var enabled: Bool
    /// Extra recipients (`age1…`) new bundles are encrypted to besides the key file's: an
    /// offline key kept in a safe opens them too.
    public var recipients: [String]
    /// An absolute path to a file holding the passphrase (its first line); never its content.
    public var passphraseFile: String?
    /// Read-only: the recipient of `DATA_DIR/backup-key`, or nil when there is no key file.
    public var recipient: String?
    /// Read-only: the key file's path when it exists (never its content).
    public var keyFile: String?
    /// Read-only: whether `BACKUP_PASSPHRASE` is set in the process's environment.
    public var passphraseFromEnvironment: Bool
    /// Read-only: what new bundles are encrypted with (see the type's rule).
    public var mode: Mode

    /// The defaults: off, no recipients, no passphrase file.
    public init(
        enabled: Bool = false, recipients: [String] = [], passphraseFile: String? = nil, recipient: String? = nil,
        keyFile: String? = nil, passphraseFromEnvironment: Bool = false, mode: Mode = .recipients
    ) {
        self.enabled = enabled
        self.recipients = recipients
        self.passphraseFile = passphraseFile
        self.recipient = recipient
        self.keyFile = keyFile
        self.passphraseFromEnvironment = passphraseFromEnvironment
        self.mode = mode
    }

    /// Every field a client sets, as JSON paths below `encryption.` (``BackupSettings/fieldNames``).
    static let fieldNames = ["enabled", "recipients", "passphrase_file"]

    /// The fields only the server sets, below `encryption.`.
    static let readOnlyFieldNames = ["recipient", "key_file", "passphrase_from_environment", "mode"]

    /// The environment variable that gives a passphrase.
    public static let passphraseVariable = "BACKUP_PASSPHRASE"

    /// The settings as stored: without the state read from the key file and the environment.
    var stored: EncryptionSettings {
        EncryptionSettings(enabled: enabled, recipients: recipients, passphraseFile: passphraseFile)
    }

    /// Whether a passphrase (the file's or the environment's) is there to encrypt with.
    var hasPassphrase: Bool {
        passphraseFromEnvironment || !(passphraseFile ?? "").isEmpty
    }
}
