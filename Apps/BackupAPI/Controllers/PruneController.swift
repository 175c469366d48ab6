import BackupCore
import Foundation
import Hummingbird

/// `POST /api/backups/prune`: apply retention now, then collect the repository's garbage;
/// `?dry_run=true` only reports.
struct PruneController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("prune", use: prune)
    }

    struct Report: Encodable {
        var deleted: [BackupInfo]
        var kept: [String]
        var dryRun: Bool
        /// What the repository's garbage collection freed (would free); null without one.
        @ExplicitNull var repository: RepositoryGCReport?

        enum CodingKeys: String, CodingKey {
            case deleted, kept, repository
            case dryRun = "dry_run"
        }
    }

    @Sendable func prune(_ request: Request, context: Context) async throws -> Response {
        let dryRun = try request.flag("dry_run")
        let service = services.service
        let report = try await BlockingWork.run { () throws(BackupError) in try service.prune(dryRun: dryRun) }
        return try .json(
            Report(
                deleted: report.deleted, kept: report.keptIDs, dryRun: report.dryRun, repository: report.repository))
    }
}
