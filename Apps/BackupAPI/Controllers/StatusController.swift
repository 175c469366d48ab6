import BackupCore
import Foundation
import Hummingbird

/// `GET /api/status` and `GET /healthz`.
struct StatusController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("status", use: status)
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        try .json(await services.runner.status())
    }

    @Sendable static func health(_ request: Request, context: Context) async throws -> Response {
        try .json(["status": "ok"])
    }
}
