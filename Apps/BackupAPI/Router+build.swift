import BackupCore
import Hummingbird

/// The routes of the REST API (see `docs/openapi.yaml`), and the web page from `assets`.
func buildRouter(_ services: AppServices, assets: WebAssets? = nil) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(ErrorMiddleware())
    router.middlewares.add(MaintenanceMiddleware(gate: services.runner.gate))
    router.middlewares.add(WebPageMiddleware())
    if let assets {
        let base = WebPageMiddleware<BasicRequestContext>.basePath
        router.middlewares.add(FileMiddleware(assets.web, urlBasePath: base, searchForIndexHtml: true))
        router.middlewares.add(FileMiddleware(assets.i18n, urlBasePath: base + "/i18n"))
    }
    router.get("healthz", use: StatusController<BasicRequestContext>.health)
    MetricsController<BasicRequestContext>(services: services).addRoutes(to: router)
    SessionController<BasicRequestContext>(services: services).addRoutes(to: router)

    let api = router.group("api").add(middleware: AuthMiddleware(services: services))
    StatusController<BasicRequestContext>(services: services).addRoutes(to: api)
    EventsController<BasicRequestContext>(services: services).addRoutes(to: api)
    let backups = api.group("backups")
    ImportController<BasicRequestContext>(services: services).addRoutes(to: backups)
    PruneController<BasicRequestContext>(services: services).addRoutes(to: backups)
    BackupsController<BasicRequestContext>(services: services).addRoutes(to: backups)
    DownloadController<BasicRequestContext>(services: services).addRoutes(to: backups)
    let settings = api.group("settings")
    SettingsController<BasicRequestContext>(services: services).addRoutes(to: settings)
    OffsiteTestController<BasicRequestContext>(services: services).addRoutes(to: settings)
    RemoteController<BasicRequestContext>(services: services).addRoutes(to: api.group("remote"))
    return router
}
