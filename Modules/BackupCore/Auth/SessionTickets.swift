import Crypto
import Foundation

/// Session tickets for the web page: the value of an HttpOnly cookie issued in exchange for the
/// API token, so the token never sits in the page's storage or in a URL.
///
/// A ticket is `EXPIRES.ID.SIGNATURE`: an HMAC-SHA256 (the link secret) over the expiry, a
/// random session id and the token's fingerprint. Tickets survive a restart (the page reconnects
/// after a restore); replacing the token or the link secret ends every session, and signing out
/// ends one (its id goes to ``SessionRevocations``, in the data directory).
///
/// Each session also has a CSRF token (``csrfToken(for:)``), an HMAC of the ticket that the page
/// reads from the sign-in response and sends back in a header on every state-changing request:
/// another site can make the browser send the cookie, but cannot read or send that token.
public struct SessionTickets: Sendable {
    /// How long a sign-in lasts.
    public static let lifetime: TimeInterval = 12 * 60 * 60

    /// A ticket that checked out: who it is and until when.
    public struct Session: Sendable, Equatable {
        public let id: String
        public let expires: Int64
    }

    private let links: DownloadLinks
    private let fingerprint: String
    private let revocations: SessionRevocations

    public init(signingWith links: DownloadLinks, token: APIToken, revocations: SessionRevocations) {
        self.links = links
        fingerprint = token.fingerprint
        self.revocations = revocations
    }

    /// A new ticket, for a new session, valid for ``lifetime`` from `now`.
    public func issue(now: Date) -> String {
        let expires = Int64((now.timeIntervalSince1970 + Self.lifetime).rounded(.down))
        let id = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }.hexString
        return "\(expires).\(id).\(signature(expires: expires, id: id))"
    }

    /// The session of `ticket` when it was issued here for the current token, has not expired and
    /// was not signed out; nil otherwise.
    public func session(_ ticket: String, now: Date) -> Session? {
        let parts = ticket.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 20, let expires = Int64(parts[0]), parts[1].count == 32 else {
            return nil
        }
        let id = String(parts[1])
        guard constantTimeEquals(String(parts[2]), signature(expires: expires, id: id)) else { return nil }
        let now = now.timeIntervalSince1970
        guard Double(expires) >= now, Double(expires) <= now + Self.lifetime + 1 else { return nil }
        guard !revocations.contains(id) else { return nil }
        return Session(id: id, expires: expires)
    }

    /// Whether `ticket` opens a session now (see ``session(_:now:)``).
    public func isValid(_ ticket: String, now: Date) -> Bool {
        session(ticket, now: now) != nil
    }

    /// The CSRF token of `session`: the page must send it with every state-changing request.
    public func csrfToken(for session: Session) -> String {
        links.authenticationCode("csrf:\(session.id):\(session.expires):\(fingerprint)")
    }

    /// Whether `candidate` is the CSRF token of `session`, compared in constant time.
    public func checkCSRF(_ candidate: String?, for session: Session) -> Bool {
        guard let candidate, !candidate.isEmpty else { return false }
        return constantTimeEquals(candidate, csrfToken(for: session))
    }

    /// Ends `session` for good: its cookie, wherever it was copied, opens nothing any more.
    public func revoke(_ session: Session, now: Date) throws(BackupError) {
        try revocations.revoke(session.id, expires: session.expires, now: now)
    }

    private func signature(expires: Int64, id: String) -> String {
        links.authenticationCode("session:\(expires):\(id):\(fingerprint)")
    }
}
