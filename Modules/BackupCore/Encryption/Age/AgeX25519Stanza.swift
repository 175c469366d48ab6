import Crypto

/// The X25519 recipient type: the file key wrapped under a key agreed between a fresh ephemeral
/// key and the recipient (`-> X25519 <ephemeral share>`).
enum AgeX25519Stanza {
    static let type = "X25519"

    /// A stanza for `recipient`, with its own ephemeral key.
    static func wrap(fileKey: SymmetricKey, to recipient: AgeRecipient) throws(BackupError) -> AgeStanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        do {
            let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.publicKey)
            let secret = try ephemeral.sharedSecretFromKeyAgreement(with: publicKey)
            let wrapKey = secret.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: share + recipient.publicKey, sharedInfo: AgeFormat.x25519Label,
                outputByteCount: 32)
            let body = try AgeFileKey.seal(fileKey, with: wrapKey)
            return AgeStanza(arguments: [type, String(decoding: AgeBase64.encode(share), as: UTF8.self)], body: body)
        } catch {
            throw .io(path: "age", reason: "cannot wrap the file key for \(recipient): \(error)")
        }
    }

    /// The file key if `stanza` is an X25519 stanza `identity` opens; nil when it is another
    /// type or for another recipient. Throws for a malformed X25519 stanza, as the spec requires.
    static func unwrap(_ stanza: AgeStanza, with identity: AgeIdentity) throws(BackupError) -> SymmetricKey? {
        guard stanza.type == type else { return nil }
        guard stanza.arguments.count == 2, let share = AgeBase64.decode(Array(stanza.arguments[1].utf8)),
            share.count == 32
        else { throw AgeFailure.malformedHeader("an X25519 stanza whose share is not 32 bytes of canonical base64") }
        guard stanza.body.count == 32 else {
            throw AgeFailure.malformedHeader("an X25519 stanza whose body is not 32 bytes")
        }
        let secretBytes: [UInt8]
        do {
            let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: share)
            let secret = try identity.privateKey.sharedSecretFromKeyAgreement(with: publicKey)
            secretBytes = secret.withUnsafeBytes { Array($0) }
        } catch {
            secretBytes = []
        }
        // A low-order share gives an all-zero secret, which the spec forbids.
        guard secretBytes.count == 32, secretBytes.contains(where: { $0 != 0 }) else {
            throw AgeFailure.malformedHeader("an X25519 stanza with a low-order share")
        }
        let wrapKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secretBytes), salt: share + identity.recipient.publicKey,
            info: AgeFormat.x25519Label, outputByteCount: 32)
        return AgeFileKey.open(stanza.body, with: wrapKey)
    }
}
