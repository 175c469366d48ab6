import BackupCore
import Hummingbird

/// `POST /api/backups/import`: a bundle as the streamed body, written to `.tmp/` chunk by
/// chunk (no body limit, flat memory), verified, and recorded as `imported`.
struct ImportController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("import", use: importBundle)
    }

    @Sendable func importBundle(_ request: Request, context: Context) async throws -> Response {
        let session = try services.service.beginImport(
            expectedBytes: request.headers[.contentLength].flatMap(Int64.init))
        do {
            for try await chunk in request.body {
                try chunk.withUnsafeReadableBytes { (bytes) throws(BackupError) in try session.write(bytes) }
            }
            let info = try session.finish()
            var response = try Response.json(info, status: .created)
            response.headers[.location] = "/api/backups/\(info.id)"
            return response
        } catch {
            session.abandon()
            throw error
        }
    }
}
