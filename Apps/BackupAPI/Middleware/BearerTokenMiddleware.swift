import BackupCore
import Hummingbird

/// A route for machines (`/metrics`): `Authorization: Bearer TOKEN` only, compared in constant
/// time. Unlike ``AuthMiddleware`` no session cookie and no signed link are taken: a scraper has
/// neither, and a page another site opens must not read it with the operator's cookie.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: APIToken

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let prefix = "Bearer "
        let values = request.headers[values: .authorization]
        guard values.count == 1, let header = values.first, header.hasPrefix(prefix),
            token.matches(String(header.dropFirst(prefix.count)))
        else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
