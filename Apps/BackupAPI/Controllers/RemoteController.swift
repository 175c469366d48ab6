import BackupCore
import Foundation
import Hummingbird

/// `/api/remote`: the off-site bucket as it is (`GET /api/remote/backups`).
struct RemoteController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("backups", use: list)
    }

    struct Listing: Encodable {
        var items: [RemoteBackup]
    }

    /// Every backup under the prefix, newest first; the ones this catalog did not know are
    /// recorded as remote-only on the way (so they can be restored and downloaded).
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let service = services.service
        let items = try await BlockingWork.run { () async throws(BackupError) in
            try await service.syncRemoteCatalog()
            return try await service.remoteBackups()
        }
        return try .json(Listing(items: items))
    }
}
