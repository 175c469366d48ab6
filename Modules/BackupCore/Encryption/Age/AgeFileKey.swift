import Crypto

/// The 16-byte file key: made fresh for each file, wrapped in each stanza with ChaCha20-Poly1305
/// under a zero nonce (each wrap key is used once), and the root of the header and payload keys.
enum AgeFileKey {
    static func generate() -> SymmetricKey { SymmetricKey(size: .bits128) }

    /// The file key sealed under `wrapKey`: 16 bytes of ciphertext and the 16-byte tag.
    static func seal(_ fileKey: SymmetricKey, with wrapKey: SymmetricKey) throws -> [UInt8] {
        let box = try fileKey.withUnsafeBytes { bytes in
            try ChaChaPoly.seal(bytes, using: wrapKey, nonce: zeroNonce)
        }
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// The file key in `body` (32 bytes checked by the caller), or nil when `wrapKey` does not
    /// open it.
    static func open(_ body: [UInt8], with wrapKey: SymmetricKey) -> SymmetricKey? {
        guard body.count == AgeFormat.fileKeySize + AgeFormat.tagSize,
            let box = try? ChaChaPoly.SealedBox(nonce: zeroNonce, ciphertext: body[..<16], tag: body[16...]),
            let key = try? ChaChaPoly.open(box, using: wrapKey)
        else { return nil }
        return SymmetricKey(data: key)
    }

    /// The payload key: HKDF-SHA-256 of the file key, salted with the payload's nonce.
    static func payloadKey(_ fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: nonce, info: AgeFormat.payloadLabel, outputByteCount: 32)
    }

    private static var zeroNonce: ChaChaPoly.Nonce { try! ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)) }
}
