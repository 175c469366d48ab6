import BackupCore
import Hummingbird

/// `GET/PUT /api/settings/backup`. A PUT may send only the fields it changes.
struct SettingsController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("backup", use: show).put("backup", use: update)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        try .json(try services.service.catalog.settings())
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let patch = try await request.decodeJSON(SettingsPatch.self)
        let saved = try services.service.saveSettings(patch.applied(to: try services.service.catalog.settings()))
        await services.scheduler.reschedule()
        return try .json(saved)
    }
}
