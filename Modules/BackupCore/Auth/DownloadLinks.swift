import Crypto
import Foundation

/// Signed download links: an HMAC-SHA256 over the backup id and an expiry, keyed with a server
/// secret kept in the data directory, so a browser can download without the bearer token.
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

    /// The signature for downloading `id` until `expires` (Unix seconds).
    public func signature(id: String, expires: Int64) -> String {
        authenticationCode("download:\(id):\(expires)")
    }

    /// HMAC-SHA256 of `message` under the link secret, base64url without padding.
    func authenticationCode(_ message: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A link's query values for `id`, valid for `lifetime` (at most five minutes) from `now`.
    public func sign(
        id: String, now: Date, lifetime: TimeInterval = maximumLifetime
    ) -> (expires: Int64, signature: String) {
        let expires = Int64((now.timeIntervalSince1970 + min(lifetime, Self.maximumLifetime)).rounded(.down))
        return (expires, signature(id: id, expires: expires))
    }

    /// Why a link does not allow downloading `id` now.
    public enum Rejection: Error, Equatable, Sendable {
        case expired
        case invalidSignature
    }

    /// Checks a link: the signature matches id and expiry, and it has not expired (nor claims
    /// to live longer than the maximum).
    public func check(id: String, expires: Int64, signature: String, now: Date) -> Rejection? {
        guard constantTimeEquals(signature, self.signature(id: id, expires: expires)) else { return .invalidSignature }
        let now = now.timeIntervalSince1970
        guard Double(expires) >= now else { return .expired }
        guard Double(expires) <= now + Self.maximumLifetime + 1 else { return .invalidSignature }
        return nil
    }
}
