import Foundation

/// The JSON form, `encryption` inside the settings.
extension EncryptionSettings: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, recipients
        case passphraseFile = "passphrase_file"
        case recipient
        case keyFile = "key_file"
        case passphraseFromEnvironment = "passphrase_from_environment"
        case mode
    }

    /// Reads the settings as the faces print them; a missing field takes its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            enabled: try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? false,
            recipients: try container.decodeIfPresent([String].self, forKey: .recipients) ?? [],
            passphraseFile: try container.decodeIfPresent(String.self, forKey: .passphraseFile),
            recipient: try container.decodeIfPresent(String.self, forKey: .recipient),
            keyFile: try container.decodeIfPresent(String.self, forKey: .keyFile),
            passphraseFromEnvironment: try container.decodeIfPresent(Bool.self, forKey: .passphraseFromEnvironment)
                ?? false,
            mode: try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .recipients)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(recipients, forKey: .recipients)
        try container.encode(passphraseFile, forKey: .passphraseFile)
        try container.encode(recipient, forKey: .recipient)
        try container.encode(keyFile, forKey: .keyFile)
        try container.encode(passphraseFromEnvironment, forKey: .passphraseFromEnvironment)
        try container.encode(mode, forKey: .mode)
    }
}
