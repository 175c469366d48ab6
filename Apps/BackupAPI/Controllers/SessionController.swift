import BackupCore
import HTTPTypes
import Hummingbird

/// `POST /api/session` signs the web page in: it trades the API token for an HttpOnly,
/// SameSite=Strict cookie holding a session ticket, so the page never stores the token, and
/// answers the session's CSRF token, which the page keeps in memory and sends as `X-Backup-CSRF`
/// with every state-changing request (see ``BrowserRequestGuard``). `GET /api/session` tells the
/// page whether its cookie is still good (without a 401 in the browser's console), with the CSRF
/// token again after a reload. `DELETE /api/session` signs out: the session is revoked on the
/// server, so a copy of the cookie stops working too. None needs a token: the sign-in checks the
/// one it gets.
struct SessionController<Context: RequestContext> {
    static var cookieName: String { "backup_session" }

    let services: AppServices

    private struct Credentials: Decodable {
        var token: String
    }

    func addRoutes(to router: Router<Context>) {
        router.get("api/session", use: show).post("api/session", use: signIn).delete("api/session", use: signOut)
    }

    private struct State: Encodable {
        var signedIn: Bool
        var csrfToken: String?

        enum CodingKeys: String, CodingKey {
            case signedIn = "signed_in"
            case csrfToken = "csrf_token"
        }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let session = Self.session(of: request, services) ?? nil
        var response = try Response.json(
            State(signedIn: session != nil, csrfToken: session.map(services.sessions.csrfToken(for:))))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The session of the request's cookie: nil when it has no cookie, `.some(nil)` when the cookie
    /// opens nothing (forged, expired or signed out).
    static func session(of request: Request, _ services: AppServices) -> SessionTickets.Session?? {
        guard let ticket = request.cookies[cookieName]?.value, !ticket.isEmpty else { return nil }
        return .some(services.sessions.session(ticket, now: services.clock()))
    }

    @Sendable func signIn(_ request: Request, context: Context) async throws -> Response {
        var request = try BrowserRequestGuard.checkSignIn(request)
        let credentials = try await request.decodeJSON(Credentials.self, limit: 4096)
        guard services.token.matches(credentials.token) else { throw APIError.wrongToken }
        let ticket = services.sessions.issue(now: services.clock())
        guard let session = services.sessions.session(ticket, now: services.clock()) else {
            throw APIError.unauthorized
        }
        var response = try Response.json(
            State(signedIn: true, csrfToken: services.sessions.csrfToken(for: session)))
        Self.setCookie(ticket, maxAge: Int(SessionTickets.lifetime), on: &response, request: request)
        return response
    }

    /// Revokes the cookie's session (a state change like any other: same origin and CSRF token
    /// required) and clears the cookie. Without a live session there is nothing to revoke.
    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        if let session = Self.session(of: request, services) ?? nil {
            _ = try BrowserRequestGuard.check(request, session: session, tickets: services.sessions)
            try services.sessions.revoke(session, now: services.clock())
        }
        var response = Response(status: .noContent)
        Self.setCookie("", maxAge: 0, on: &response, request: request)
        return response
    }

    /// The cookie; `Secure` when a TLS proxy in front says the page came over HTTPS.
    private static func setCookie(_ value: String, maxAge: Int, on response: inout Response, request: Request) {
        response.headers[.cacheControl] = "no-store"
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        response.setCookie(
            Cookie(
                name: cookieName, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true,
                sameSite: .strict))
    }
}
