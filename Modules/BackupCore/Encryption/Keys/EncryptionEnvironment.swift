import Foundation

/// The passphrase the process's environment gives: `BACKUP_PASSPHRASE`, which overrides
/// `encryption.passphrase_file` (as `AWS_*` override the stored off-site keys).
public struct EncryptionEnvironment: Sendable, Equatable {
    public var passphrase: SecretText?

    /// Reads the variable from `environment`; an empty value counts as unset.
    public init(_ environment: [String: String]) {
        passphrase = environment[EncryptionSettings.passphraseVariable].flatMap { $0.isEmpty ? nil : SecretText($0) }
    }

    /// This process's environment.
    public static var process: EncryptionEnvironment { EncryptionEnvironment(ProcessInfo.processInfo.environment) }
}
