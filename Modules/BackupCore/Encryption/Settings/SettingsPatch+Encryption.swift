import Foundation

extension SettingsPatch {
    /// A partial change of ``EncryptionSettings`` (`encryption` in a PUT, `encryption.KEY=VALUE`
    /// words): `recipients` is a list in JSON and comma-separated words on the command line (an
    /// empty value clears it); an empty or `null` `passphrase_file` removes it.
    public struct Encryption: Decodable, Sendable {
        var enabled: Bool?
        var recipients: [String]?
        var passphraseFile: String??
        /// The read-only fields as sent back from a GET: accepted when they repeat the current
        /// state, refused as read-only otherwise.
        var recipient: String??
        var keyFile: String??
        var passphraseFromEnvironment: Bool?
        var mode: EncryptionSettings.Mode?

        init() {}

        public init(from decoder: any Decoder) throws {
            typealias Keys = EncryptionSettings.CodingKeys
            let container = try decoder.container(keyedBy: Keys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
            recipients = try container.decodeIfPresent([String].self, forKey: .recipients)
            if container.contains(.passphraseFile) {
                passphraseFile = .some(try container.decodeIfPresent(String.self, forKey: .passphraseFile))
            }
            if container.contains(.recipient) {
                recipient = .some(try container.decodeIfPresent(String.self, forKey: .recipient))
            }
            if container.contains(.keyFile) {
                keyFile = .some(try container.decodeIfPresent(String.self, forKey: .keyFile))
            }
            passphraseFromEnvironment = try container.decodeIfPresent(Bool.self, forKey: .passphraseFromEnvironment)
            mode = try container.decodeIfPresent(EncryptionSettings.Mode.self, forKey: .mode)
        }

        /// Sets `field` (below `encryption.`) from its text; the problem when the text is not
        /// of the field's type.
        mutating func set(_ field: String, to value: String, flag: Bool?) -> String? {
            switch field {
            case "enabled":
                guard let flag else { return "must be true or false" }
                enabled = flag
            case "recipients":
                recipients = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            case "passphrase_file":
                passphraseFile = .some(value.isEmpty ? nil : value)
            default:
                return "is not a setting"
            }
            return nil
        }

        /// `settings` (with their key state filled in) with this patch's fields replaced; a
        /// read-only field that differs from that state is refused.
        func applied(to settings: EncryptionSettings) throws(BackupError) -> EncryptionSettings {
            var problems: [String: String] = [:]
            if let recipient, recipient != settings.recipient {
                problems["encryption.recipient"] = "read-only field"
            }
            if let keyFile, keyFile != settings.keyFile {
                problems["encryption.key_file"] = "read-only field"
            }
            if let passphraseFromEnvironment, passphraseFromEnvironment != settings.passphraseFromEnvironment {
                problems["encryption.passphrase_from_environment"] = "read-only field"
            }
            if let mode, mode != settings.mode {
                problems["encryption.mode"] = "read-only field"
            }
            guard problems.isEmpty else { throw .invalidInput(fields: problems) }
            var settings = settings
            if let enabled { settings.enabled = enabled }
            if let recipients { settings.recipients = recipients }
            if let passphraseFile { settings.passphraseFile = passphraseFile?.isEmpty == true ? nil : passphraseFile }
            return settings
        }
    }
}
