import Crypto
import Foundation

/// Signed download links: an HMAC-SHA256 over the backup id, the bundle's SHA-256 and an expiry,
/// keyed with a server secret kept in the data directory, so a browser can download without the
/// bearer token. The SHA-256 binds a link to one bundle: once that backup is deleted, a bundle
/// imported later under the same id does not answer to it.
public struct DownloadLinks: Sendable {
    /// The longest a link may live.
    public static let maximumLifetime: TimeInterval = 5 * 60

    /// Also signs session tickets (``SessionTickets``), with a different message prefix.
    let key: SymmetricKey

    /// Loads the link secret from `DATA_DIR/link-secret`, creating it (mode 0600) when missing.
    public init(dataDirectory: DataDirectory) throws(BackupError) {
        try dataDirectory.prepare()
        let (secret, _) = try SecretFile.readOrCreate(dataDirectory.root.appendingPathComponent("link-secret"))
        key = SymmetricKey(data: Array(secret.utf8))
    }

    /// A key given directly (tests).
    public init(secret: String) {
        key = SymmetricKey(data: Array(secret.utf8))
    }

    /// The signature for downloading the bundle `id` whose SHA-256 is `sha256` until `expires`
    /// (Unix seconds).
    public func signature(id: String, sha256: String, expires: Int64) -> String {
        authenticationCode("download:\(id):\(sha256):\(expires)")
    }

    /// HMAC-SHA256 of `message` under the link secret, base64url without padding.
    func authenticationCode(_ message: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A link's query values for the bundle `id` (SHA-256 `sha256`), valid for `lifetime` (at most
    /// five minutes) from `now`.
    public func sign(
        id: String, sha256: String, now: Date, lifetime: TimeInterval = maximumLifetime
    ) -> (expires: Int64, signature: String) {
        let expires = Int64((now.timeIntervalSince1970 + min(lifetime, Self.maximumLifetime)).rounded(.down))
        return (expires, signature(id: id, sha256: sha256, expires: expires))
    }

    /// Why a link does not allow downloading `id` now.
    public enum Rejection: Error, Equatable, Sendable {
        case expired
        case invalidSignature
    }

    /// Checks a link against the bundle `id` as the catalog has it now (SHA-256 `sha256`): the
    /// signature matches id, hash and expiry, and it has not expired (nor claims to live longer
    /// than the maximum).
    public func check(id: String, sha256: String, expires: Int64, signature: String, now: Date) -> Rejection? {
        guard constantTimeEquals(signature, self.signature(id: id, sha256: sha256, expires: expires)) else {
            return .invalidSignature
        }
        let now = now.timeIntervalSince1970
        guard Double(expires) >= now else { return .expired }
        guard Double(expires) <= now + Self.maximumLifetime + 1 else { return .invalidSignature }
        return nil
    }
}
