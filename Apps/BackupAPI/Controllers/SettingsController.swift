import BackupCore
import HTTPTypes
import Hummingbird

/// `GET/PUT /api/settings/backup`. A PUT may send only the fields it changes; the off-site
/// secret (`offsite.secret_access_key`) is taken, never answered (`secret_access_key_set`).
///
/// A change that makes retention delete backups is never silent: `?dry_run=true` answers the
/// settings as they would be with `would_delete` and saves nothing (the page asks the operator
/// with it first); a real PUT still saves and prunes (scripts rely on it) and names what it
/// deleted in the `Retention-Deleted` header, keeping its body the settings.
struct SettingsController<Context: RequestContext> {
    let services: AppServices

    /// The header of a PUT's answer listing the ids retention deleted (absent when none).
    static var deletedHeader: HTTPField.Name { HTTPField.Name("Retention-Deleted")! }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("backup", use: show).put("backup", use: update)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let service = services.service
        return try .json(service.withCredentialState(try await service.catalog.async.settings()))
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> Response {
        let dryRun = try request.flag("dry_run")
        var request = request
        let patch = try await request.decodeJSON(SettingsPatch.self)
        let service = services.service
        let settings = try patch.applied(to: service.withCredentialState(try await service.catalog.async.settings()))
        if dryRun {
            let preview = try await BlockingWork.run { () throws(BackupError) in
                try service.previewSettings(settings, secretChange: patch.secretChange, tokenChange: patch.tokenChange)
            }
            return try .json(preview.asPreview)
        }
        let change = try await BlockingWork.run { () throws(BackupError) in
            try service.saveSettings(settings, secretChange: patch.secretChange, tokenChange: patch.tokenChange)
        }
        await services.scheduler.reschedule()
        var response = try Response.json(change.settings)
        if !change.deleted.isEmpty {
            response.headers[Self.deletedHeader] = change.deleted.map(\.id).joined(separator: ", ")
        }
        return response
    }
}
