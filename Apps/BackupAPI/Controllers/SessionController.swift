import BackupCore
import HTTPTypes
import Hummingbird

/// `POST /api/session` signs the web page in: it trades the API token for an HttpOnly,
/// SameSite=Strict cookie holding a session ticket, so the page never stores the token.
/// `DELETE /api/session` signs out; `GET /api/session` tells the page whether its cookie is still
/// good (without a 401 in the browser's console). None needs a token: the sign-in checks the one
/// it gets.
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

        enum CodingKeys: String, CodingKey {
            case signedIn = "signed_in"
        }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        try .json(State(signedIn: Self.hasValidSession(request, services) == true))
    }

    /// Whether `request` carries a session cookie that is still good; nil when it has none.
    static func hasValidSession(_ request: Request, _ services: AppServices) -> Bool? {
        guard let ticket = request.cookies[cookieName]?.value, !ticket.isEmpty else { return nil }
        return services.sessions.isValid(ticket, now: services.clock())
    }

    @Sendable func signIn(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let credentials = try await request.decodeJSON(Credentials.self, limit: 4096)
        guard services.token.matches(credentials.token) else { throw APIError.wrongToken }
        let ticket = services.sessions.issue(now: services.clock())
        return Self.response(cookie: ticket, maxAge: Int(SessionTickets.lifetime), request: request)
    }

    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        Self.response(cookie: "", maxAge: 0, request: request)
    }

    /// 204 with the cookie; `Secure` when a TLS proxy in front says the page came over HTTPS.
    private static func response(cookie value: String, maxAge: Int, request: Request) -> Response {
        var response = Response(status: .noContent, headers: [.cacheControl: "no-store"])
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        response.setCookie(
            Cookie(
                name: cookieName, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true,
                sameSite: .strict))
        return response
    }
}
