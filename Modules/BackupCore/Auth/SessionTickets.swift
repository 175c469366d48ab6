import Foundation

/// Session tickets for the web page: the value of an HttpOnly cookie issued in exchange for the
/// API token, so the token never sits in the page's storage or in a URL.
///
/// A ticket is `EXPIRES.SIGNATURE`: an HMAC-SHA256 (the link secret) over the expiry and the
/// token's fingerprint. Nothing is stored on the server, so tickets survive a restart (the page
/// reconnects after a restore), and replacing the token or the link secret ends every session.
public struct SessionTickets: Sendable {
    /// How long a sign-in lasts.
    public static let lifetime: TimeInterval = 12 * 60 * 60

    private let links: DownloadLinks
    private let fingerprint: String

    public init(signingWith links: DownloadLinks, token: APIToken) {
        self.links = links
        fingerprint = token.fingerprint
    }

    /// A new ticket valid for ``lifetime`` from `now`.
    public func issue(now: Date) -> String {
        let expires = Int64((now.timeIntervalSince1970 + Self.lifetime).rounded(.down))
        return "\(expires).\(signature(expires: expires))"
    }

    /// Whether `ticket` was issued here for the current token and has not expired.
    public func isValid(_ ticket: String, now: Date) -> Bool {
        let parts = ticket.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 20, let expires = Int64(parts[0]) else { return false }
        guard constantTimeEquals(String(parts[1]), signature(expires: expires)) else { return false }
        let now = now.timeIntervalSince1970
        return Double(expires) >= now && Double(expires) <= now + Self.lifetime + 1
    }

    private func signature(expires: Int64) -> String {
        links.authenticationCode("session:\(expires):\(fingerprint)")
    }
}
