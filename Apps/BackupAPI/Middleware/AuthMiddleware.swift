import BackupCore
import Hummingbird

/// Every `/api` route needs `Authorization: Bearer TOKEN`, compared in constant time, or the web
/// page's session cookie (see ``SessionController``), which on a state-changing request must also
/// pass ``BrowserRequestGuard`` (same origin, CSRF token, declared body). The one exception is a
/// download through a signed link (`?expires=…&signature=…`), checked here too.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let services: AppServices

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        // Two Authorization headers are ambiguous (a proxy may check one, we another): refused.
        guard request.headers[values: .authorization].count <= 1 else { throw APIError.unauthorized }
        if let header = request.headers[.authorization] {
            let prefix = "Bearer "
            guard header.hasPrefix(prefix), services.token.matches(String(header.dropFirst(prefix.count))) else {
                throw APIError.unauthorized
            }
            return try await next(request, context)
        }
        if let session = SessionController<Context>.session(of: request, services) {
            guard let session else { throw APIError.unauthorized }
            guard BrowserRequestGuard.changesState(request.method) else { return try await next(request, context) }
            let checked = try BrowserRequestGuard.check(request, session: session, tickets: services.sessions)
            return try await next(checked, context)
        }
        if let id = signedDownloadID(request) {
            guard let expires = request.query("expires").flatMap(Int64.init), let signature = request.query("signature")
            else {
                throw APIError(status: .forbidden, code: "invalid_link", message: "the download link is malformed")
            }
            // The link names the bundle by id and SHA-256: a backup deleted since, or another bundle
            // imported under its id, does not answer to it.
            let sha256 = (try? await services.service.catalog.async.record(id: id))?.sha256 ?? ""
            switch services.links.check(
                id: id, sha256: sha256, expires: expires, signature: signature, now: services.clock())
            {
            case nil: return try await next(request, context)
            case .expired:
                throw APIError(status: .forbidden, code: "link_expired", message: "the download link has expired")
            case .invalidSignature:
                throw APIError(status: .forbidden, code: "invalid_link", message: "the download link is not valid")
            }
        }
        throw APIError.unauthorized
    }

    /// The id of `GET /api/backups/{id}/download` carrying a `signature` query parameter.
    private func signedDownloadID(_ request: Request) -> String? {
        guard request.method == .get, request.query("signature") != nil else { return nil }
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[1] == "api", parts[2] == "backups", parts[4] == "download" else { return nil }
        return String(parts[3])
    }
}
