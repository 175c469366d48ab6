import BackupCore
import Foundation
import Hummingbird

/// `GET /api/status` and `GET /healthz`.
struct StatusController<Context: RequestContext> {
    let services: AppServices

    struct Status: Encodable {
        var version: String
        var state: String
        var currentJob: JobStatus?
        var lastRestore: RestoreOutcome?

        enum CodingKeys: String, CodingKey {
            case version, state
            case currentJob = "current_job"
            case lastRestore = "last_restore"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(state, forKey: .state)
            try container.encode(currentJob, forKey: .currentJob)
            try container.encode(lastRestore, forKey: .lastRestore)
        }
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("status", use: status)
    }

    func status() async -> Status {
        let job = await services.runner.currentJob
        // Busy also when another process (the CLI) holds the job lock.
        let busy = job != nil || AdvisoryLock.isHeld(at: services.service.dataDirectory.jobLock.path)
        let state = services.runner.gate.isInMaintenance ? "maintenance" : busy ? "busy" : "ready"
        return Status(
            version: BackupManagerVersion.current, state: state, currentJob: job,
            lastRestore: services.service.dataDirectory.lastRestore())
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        try .json(await status())
    }

    @Sendable static func health(_ request: Request, context: Context) async throws -> Response {
        try .json(["status": "ok"])
    }
}
