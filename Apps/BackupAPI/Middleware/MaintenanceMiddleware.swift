import BackupCore
import Hummingbird

/// During a restore's maintenance new requests get 503 `maintenance`, except health, status,
/// metrics, events and the web page's files, which keep answering (and are not counted, so a long event stream never blocks the
/// drain). Every admitted request is counted until it finishes, so the restore can drain them.
struct MaintenanceMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: MaintenanceGate

    static func isExempt(_ path: String) -> Bool {
        path == "/healthz" || path == "/metrics" || path == "/api/status" || path == "/api/events"
            || WebPageMiddleware<Context>.isPage(path)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if Self.isExempt(request.uri.path) { return try await next(request, context) }
        guard gate.enter() else {
            var response = try APIError(
                status: .serviceUnavailable, code: "maintenance",
                message: "a restore is in progress; the server restarts when it is done"
            ).response(from: request, context: context)
            response.headers[.retryAfter] = "5"
            return response
        }
        defer { gate.leave() }
        return try await next(request, context)
    }
}
