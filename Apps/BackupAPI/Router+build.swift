import BackupCore
import Hummingbird

/// The routes of the REST API (see `docs/openapi.yaml`).
func buildRouter(_ services: AppServices) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(ErrorMiddleware())
    router.middlewares.add(MaintenanceMiddleware(gate: services.runner.gate))
    router.get("healthz", use: StatusController<BasicRequestContext>.health)

    let api = router.group("api").add(middleware: AuthMiddleware(services: services))
    StatusController<BasicRequestContext>(services: services).addRoutes(to: api)
    EventsController<BasicRequestContext>(services: services).addRoutes(to: api)
    let backups = api.group("backups")
    ImportController<BasicRequestContext>(services: services).addRoutes(to: backups)
    PruneController<BasicRequestContext>(services: services).addRoutes(to: backups)
    BackupsController<BasicRequestContext>(services: services).addRoutes(to: backups)
    DownloadController<BasicRequestContext>(services: services).addRoutes(to: backups)
    SettingsController<BasicRequestContext>(services: services).addRoutes(to: api.group("settings"))
    return router
}
