/// The constants of the age v1 format (age-encryption.org/v1, c2sp.org/age).
enum AgeFormat {
    /// "age-encryption.org/v1\n": what every age file starts with.
    static let magic: [UInt8] = Array("age-encryption.org/v1\n".utf8)
    /// What every age version line starts with (another version is refused by name).
    static let versionPrefix: [UInt8] = Array("age-encryption.org/".utf8)
    /// The file key's length.
    static let fileKeySize = 16
    /// The payload nonce's length, right after the header.
    static let nonceSize = 16
    /// Plaintext bytes per payload chunk (the final chunk may be shorter).
    static let chunkSize = 64 * 1024
    /// The Poly1305 tag after each chunk.
    static let tagSize = 16
    /// A full chunk as stored.
    static let sealedChunkSize = chunkSize + tagSize
    /// Base64 characters per stanza body line; a shorter line ends the body.
    static let columnsPerLine = 64
    /// The longest header line read (the arguments of post-quantum stanzas run to ~1,500).
    static let maxLineLength = 4096
    /// The longest header read: far above any real one (a stanza per recipient, ~120 bytes each),
    /// so a file of endless stanzas fails instead of filling memory.
    static let maxHeaderLength = 1 << 20

    static let headerLabel: [UInt8] = Array("header".utf8)
    static let payloadLabel: [UInt8] = Array("payload".utf8)
    static let x25519Label: [UInt8] = Array("age-encryption.org/v1/X25519".utf8)
    static let scryptLabel: [UInt8] = Array("age-encryption.org/v1/scrypt".utf8)
}
