import BackupCore
import Hummingbird
import Logging

/// Turns every error into the API's JSON error: core errors by their mapping, Hummingbird's own
/// (unknown route, bad request) by their status, anything else as a logged 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as BackupError {
            switch error {
            case .io, .sourceUnavailable:
                context.logger.error("request failed", metadata: ["error": "\(error.message)"])
            default:
                break
            }
            throw APIError(error)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            throw APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw error
        } catch is CancellationError {
            throw APIError(status: .serviceUnavailable, code: "shutting_down", message: "the server is shutting down")
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            throw APIError(
                status: .internalServerError, code: "internal_error", message: "an unexpected error occurred")
        }
    }
}
