import HTTPTypes
import Hummingbird

/// The web settings page at `/settings/backup`: `/` redirects there, and every page response
/// carries a strict Content-Security-Policy (nothing from outside this server, no inline
/// script or style), `nosniff`, no framing and no referrer.
struct WebPageMiddleware<Context: RequestContext>: RouterMiddleware {
    static var basePath: String { "/settings/backup" }

    static func isPage(_ path: String) -> Bool {
        path == basePath || path.hasPrefix(basePath + "/")
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let path = request.uri.path
        if path == "/", request.method == .get || request.method == .head {
            return Response(status: .found, headers: [.location: Self.basePath])
        }
        var response = try await next(request, context)
        if Self.isPage(path) {
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            response.headers[.xContentTypeOptions] = "nosniff"
            response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
            response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
