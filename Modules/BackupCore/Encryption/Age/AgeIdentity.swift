import Crypto
import Foundation

/// An X25519 identity (the private key): `AGE-SECRET-KEY-1…` (Bech32, upper case).
///
/// Its ``description`` names only its recipient, so an identity interpolated into a log line or
/// an error never shows the secret; the secret leaves only through ``fileText(created:)``.
public struct AgeIdentity: Sendable, CustomStringConvertible, CustomReflectable {
    static let hrp = "AGE-SECRET-KEY-"

    let privateKey: Curve25519.KeyAgreement.PrivateKey

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new identity from the system's random number generator.
    public static func generate() -> AgeIdentity {
        AgeIdentity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// Parses one `AGE-SECRET-KEY-1…` line (surrounding white space ignored).
    ///
    /// Throws ``BackupError/invalidInput(fields:)`` naming `field` when it is malformed; the
    /// reason never repeats the text.
    public init(parsing text: String, field: String = "identity") throws(BackupError) {
        let text = text.trimmingWhitespace
        switch Bech32.decode(text) {
        case .failure(let failure):
            throw .invalidInput(fields: [field: "not an age identity (AGE-SECRET-KEY-1…): \(failure.reason)"])
        case .success(let decoded):
            guard decoded.hrp == Self.hrp else {
                throw .invalidInput(fields: [
                    field: "not an age identity: it must start with AGE-SECRET-KEY-1, in upper case"
                ])
            }
            guard decoded.data.count == 32,
                let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
            else {
                throw .invalidInput(fields: [field: "not an age identity: the key is not 32 bytes"])
            }
            privateKey = key
        }
    }

    /// Every identity in an identity file's text, in order.
    ///
    /// Blank lines and lines starting with `#` are skipped, as `age -i` does. Throws
    /// ``BackupError/invalidInput(fields:)`` naming `field` (and the line number) when a line is
    /// malformed or there is no identity at all.
    public static func parseFile(_ text: String, field: String = "identity") throws(BackupError) -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        // Split on LF bytes: as Characters, CR LF is one and would not split.
        for (index, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = String(decoding: line, as: UTF8.self).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            do throws(BackupError) {
                identities.append(try AgeIdentity(parsing: line, field: field))
            } catch {
                guard case .invalidInput(let fields) = error, let reason = fields[field] else { throw error }
                throw .invalidInput(fields: [field: "line \(index + 1): \(reason)"])
            }
        }
        guard !identities.isEmpty else {
            throw .invalidInput(fields: [field: "no identity (AGE-SECRET-KEY-1…) in the file"])
        }
        return identities
    }

    /// The text of an identity file as `age-keygen` writes it: the creation time, the public key
    /// as a comment, then the `AGE-SECRET-KEY-1…` line.
    public func fileText(created: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "# created: \(formatter.string(from: created))\n# public key: \(recipient)\n\(secretText)\n"
    }

    /// The recipient (public key) files for this identity are encrypted to.
    public var recipient: AgeRecipient {
        AgeRecipient(publicKey: Array(privateKey.publicKey.rawRepresentation))
    }

    /// Names the recipient only.
    public var description: String { "AgeIdentity(\(recipient))" }

    /// Shows the recipient only (`dump` and the debugger never reach the private key).
    public var customMirror: Mirror { Mirror(self, children: ["recipient": recipient]) }

    /// The `AGE-SECRET-KEY-1…` string.
    var secretText: String {
        Bech32.encode(hrp: Self.hrp, data: Array(privateKey.rawRepresentation)).uppercased()
    }
}
