import Crypto

/// An X25519 recipient (the public key): `age1…` (Bech32, lower case).
///
/// Files encrypted to it open with the matching ``AgeIdentity``, here or with the `age` command.
public struct AgeRecipient: Sendable, Hashable, CustomStringConvertible {
    static let hrp = "age"

    /// The 32-byte X25519 public key.
    let publicKey: [UInt8]

    init(publicKey: [UInt8]) {
        self.publicKey = publicKey
    }

    /// Parses one `age1…` string (surrounding white space ignored).
    ///
    /// Throws ``BackupError/invalidInput(fields:)`` naming `field` when it is not an X25519
    /// recipient.
    public init(parsing text: String, field: String = "recipient") throws(BackupError) {
        let text = text.trimmingWhitespace
        switch Bech32.decode(text) {
        case .failure(let failure):
            throw .invalidInput(fields: [field: "not an age recipient (age1…): \(failure.reason)"])
        case .success(let decoded):
            guard decoded.hrp == Self.hrp else {
                throw .invalidInput(fields: [field: "not an age recipient: it must start with age1, in lower case"])
            }
            guard decoded.data.count == 32 else {
                throw .invalidInput(fields: [field: "not an age recipient: the key is not 32 bytes"])
            }
            publicKey = decoded.data
        }
    }

    /// The `age1…` string.
    public var description: String { Bech32.encode(hrp: Self.hrp, data: publicKey) }
}

extension String {
    /// The string without leading and trailing white space (spaces, tabs, LF and CR LF line ends).
    var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
