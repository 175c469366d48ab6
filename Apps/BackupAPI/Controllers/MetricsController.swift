import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /metrics`: the Prometheus text exposition, behind the bearer token.
struct MetricsController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to router: Router<Context>) {
        router.group("metrics").add(middleware: BearerTokenMiddleware(token: services.token)).get(use: metrics)
    }

    /// Reads the catalog (GRDB's reader queues), the runner's job and `/proc/self` (a blocking
    /// thread), then renders; nothing runs on the event loop but the rendering.
    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        let figures = try await services.service.catalog.async.figures()
        let job = await services.runner.currentJob
        let process = await BlockingWork.run { ProcessFigures.read() }
        let page = services.metrics.render(figures: figures, job: job, process: process, now: services.clock())
        return Response(
            status: .ok, headers: [.contentType: MetricsExporter.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}
