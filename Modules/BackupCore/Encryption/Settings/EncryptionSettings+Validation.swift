import Foundation

extension EncryptionSettings {
    /// Every field's problem, keyed by its JSON path (`encryption.recipients[1]`); empty when
    /// valid. Judged with the key file's and the environment's state filled in
    /// (``BackupService/withCredentialState(_:secretChange:)``): turning encryption on with no
    /// key at all is refused, naming `backup key generate`.
    public var problems: [String: String] {
        var fields: [String: String] = [:]
        for (index, text) in recipients.enumerated() {
            let field = "encryption.recipients[\(index)]"
            do throws(BackupError) {
                _ = try AgeRecipient(parsing: text, field: field)
            } catch .invalidInput(let problems) {
                fields.merge(problems) { own, _ in own }
            } catch {
                fields[field] = "is not an age recipient (age1…)"
            }
        }
        if let passphraseFile, !passphraseFile.isEmpty {
            if let problem = PassphraseFile.problem(with: passphraseFile) {
                fields["encryption.passphrase_file"] = problem
            }
            if !recipients.isEmpty {
                fields["encryption.recipients"] =
                    "cannot be combined with encryption.passphrase_file: age encrypts to a passphrase alone"
            }
        }
        if enabled, keyFile == nil, recipients.isEmpty, !hasPassphrase {
            fields["encryption.enabled"] =
                "no key to encrypt to: run `backup key generate` first (or set encryption.recipients, "
                + "encryption.passphrase_file or \(Self.passphraseVariable))"
        }
        return fields
    }

    /// The settings as saved: an empty passphrase file is none.
    var normalized: EncryptionSettings {
        var settings = self
        if settings.passphraseFile?.isEmpty == true { settings.passphraseFile = nil }
        return settings
    }
}
