import Foundation

/// `config.json` at a repository's root: written once, when the repository is made.
struct RepositoryConfig: Codable, Equatable, Sendable {
    static let currentVersion = 1

    var version: Int = Self.currentVersion
    /// Random, 16 bytes hex: tells one repository from another (an off-site copy has the same).
    var id: String
    var createdAt: Date
    /// Whether packs and indexes are age-encrypted (to the repository's own recipient, whose
    /// identity `keys/repository-key.age` holds).
    var encrypted: Bool
    /// The repository's own X25519 recipient (`age1…`) when encrypted.
    var recipient: String?

    enum CodingKeys: String, CodingKey {
        case version, id, encrypted, recipient
        case createdAt = "created_at"
    }
}
