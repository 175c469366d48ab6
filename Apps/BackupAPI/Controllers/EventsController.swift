import BackupCore
import Foundation
import Hummingbird
import ServiceLifecycle

/// `GET /api/events`: Server-Sent Events. First a `status` and a `catalog` event, then a `job` event at every
/// progress step and state change of this server's jobs, and a `catalog` event whenever the
/// catalog changed (here or in another process, such as the CLI). The stream ends when the
/// server shuts down.
struct EventsController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("events", use: events)
    }

    @Sendable func events(_ request: Request, context: Context) async throws -> Response {
        let runner = services.runner
        let updates = await runner.events()
        let initial = await runner.status()
        let catalog = await runner.catalogChange()
        let body = ResponseBody { writer in
            try await writer.write(Self.event("status", initial))
            try await writer.write(Self.event("catalog", catalog))
            for await update in updates.cancelOnGracefulShutdown() {
                switch update {
                case .job(let job): try await writer.write(Self.event("job", job))
                case .catalog(let change): try await writer.write(Self.event("catalog", change))
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: body)
    }

    static func event(_ name: String, _ value: some Encodable) -> ByteBuffer {
        let data = (try? JSONEncoder.backupManager().encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }
}
