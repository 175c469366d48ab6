import BackupCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// What the server needs to start; the command line provides it, tests pass their own.
protocol AppArguments: Sendable {
    var host: String { get }
    var port: Int { get }
    var dataDir: String { get }
    /// `--database` or `BACKUP_DATABASE`: a SQLite path or a PostgreSQL URL.
    var database: String? { get }
    /// Whether ``database`` came from the command line (a password there shows in `ps`).
    var databaseFromArguments: Bool { get }
    var tokenFile: String? { get }
    var logLevel: String { get }
    /// The token itself (BACKUP_API_TOKEN), when given.
    var token: String? { get }
    /// The folder holding `web/` and `i18n/`; nil to look beside the working directory and the
    /// executable.
    var assetsDir: String? { get }
    /// How often the catalog is polled for changes made by other processes (`/api/events`).
    var catalogPollInterval: Duration { get }
    /// How long a drain (a restore's maintenance, a shutdown or restart) waits for running
    /// requests before it goes on (maintenance) or closes their connections (shutdown).
    var drainTimeoutSeconds: Int { get }
    /// How slowly an import may arrive before it is cut off.
    var importPace: ImportPace { get }
}

extension AppArguments {
    var databaseFromArguments: Bool { false }
    var assetsDir: String? { nil }
    var catalogPollInterval: Duration { .seconds(1) }
    var drainTimeoutSeconds: Int { 10 }
    var importPace: ImportPace { .standard }
}

/// Everything the routes share.
struct AppServices: Sendable {
    let service: BackupService
    let runner: JobRunner
    let scheduler: Scheduler
    let token: APIToken
    let links: DownloadLinks
    let sessions: SessionTickets
    let wallClock: any WallClock
    let importPace: ImportPace
    /// `GET /metrics`; the service counts into its registry.
    let metrics: MetricsExporter

    var clock: @Sendable () -> Date { { [wallClock] in wallClock.now() } }

    init(
        service: BackupService, token: APIToken, links: DownloadLinks, clock: any WallClock, logger: Logger,
        drainTimeout: Duration = .seconds(10),
        importPace: ImportPace = .standard, metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        let metrics = MetricsExporter(registry: metricsRegistry)
        var service = service
        service.metrics = metrics.backupMetrics
        self.metrics = metrics
        self.service = service
        let alerts = AlertNotifier(service: service, clock: clock, logger: logger)
        runner = JobRunner(service: service, alerts: alerts, drainTimeout: drainTimeout)
        scheduler = Scheduler(runner: runner, clock: clock, logger: logger, alerts: alerts)
        self.token = token
        self.links = links
        sessions = SessionTickets(
            signingWith: links, token: token, revocations: SessionRevocations(dataDirectory: service.dataDirectory))
        wallClock = clock
        self.importPace = importPace
    }
}

/// Builds the real application: data directory, token, catalog, job runner, router. Every client
/// connection is registered in `connections`, for ``DrainDeadline``; `GET /metrics` shows
/// `metricsRegistry` (the one the process bootstrapped swift-metrics with; tests give their own).
func buildApplication(
    _ arguments: some AppArguments, clock: any WallClock = SystemClock(), restarts: RestartRequests = RestartRequests(),
    connections: OpenConnections = OpenConnections(),
    metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "backup-api")
    logger.logLevel = Logger.Level(rawValue: arguments.logLevel) ?? .info

    let dataDirectory = try DataDirectory(root: arguments.dataDir, parsingDatabase: arguments.database)
    if arguments.databaseFromArguments, case .postgres(let url) = dataDirectory.location, url.hasPassword {
        logger.warning(
            """
            the password in --database is visible to every user of this machine in the process listing; \
            give it through PGPASSWORD, ~/.pgpass or BACKUP_DATABASE instead
            """)
    }
    let serverLock = try ServerLock.acquire(dataDirectory)
    let token = try APIToken.resolve(
        environmentValue: arguments.token, tokenFile: arguments.tokenFile, dataDirectory: dataDirectory)
    switch token.source {
    case .generated(let path): logger.notice("generated an API token", metadata: ["file": "\(path)"])
    case .file(let path): logger.info("API token read from file", metadata: ["file": "\(path)"])
    case .environment: logger.info("API token read from BACKUP_API_TOKEN")
    }
    // A key file others may read is refused here, as the token is: the server does not start.
    if let recipient = try BackupKey(dataDirectory: dataDirectory).recipient() {
        logger.info("backup key read", metadata: ["recipient": "\(recipient)"])
    }
    var counting = try BackupService(dataDirectory: dataDirectory, clock: { clock.now() })
    counting.metrics = BackupMetrics(factory: PrometheusMetricsFactory.backupManager(registry: metricsRegistry))
    let service = counting
    let (reconciled, pruned) = try await BlockingWork.run { () throws(BackupError) in try service.startUp() }
    logger.info(
        "start-up reconciliation",
        metadata: [
            "interrupted": "\(reconciled.interrupted)", "tmp_removed": "\(reconciled.temporaryFilesRemoved)",
            "adopted": "\(reconciled.adopted)", "quarantined": "\(reconciled.quarantined)",
            "missing": "\(reconciled.missing)", "pruned": "\(pruned.deleted.map(\.id))",
            "restore_recovered": "\(reconciled.restoreRecovered ?? "none")",
        ])
    // Read now, in the start-up's sequence: off-site recovery then runs at once (see UploadRetrier).
    let offsiteAtStart = (try? service.settings().offsite.enabled) ?? false
    let services = AppServices(
        service: service, token: token, links: try DownloadLinks(dataDirectory: dataDirectory), clock: clock,
        logger: logger, drainTimeout: .seconds(arguments.drainTimeoutSeconds),
        importPace: arguments.importPace, metricsRegistry: metricsRegistry)

    let assets = WebAssets.locate(arguments.assetsDir)
    if let assets {
        logger.info("serving the web page", metadata: ["assets": "\(assets.root)"])
    } else {
        logger.warning("web/ and i18n/ not found (set --assets-dir): /settings/backup answers 404")
    }
    let router = buildRouter(services, assets: assets)
    let startLogger = logger
    return Application(
        router: router,
        server: .http1(
            configuration: .init(additionalChannelHandlers: [connections.tracker()], idleTimeout: connectionIdleTimeout)
        ),
        configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: nil),
        services: [
            JobRunnerService(runner: services.runner, serverLock: serverLock, logger: logger),
            SchedulerService(scheduler: services.scheduler),
            UploadRetryService(
                retrier: UploadRetrier(
                    runner: services.runner, clock: clock, offsiteAtStart: offsiteAtStart, logger: logger)),
            CatalogWatchService(runner: services.runner, interval: arguments.catalogPollInterval, logger: logger),
            RestartWatcher(runner: services.runner, requests: restarts, logger: logger),
        ],
        onServerRunning: { channel in
            startLogger.notice(
                "backup-api listening",
                metadata: [
                    "address": "\(channel.localAddress?.description ?? "?")",
                    "data_dir": "\(dataDirectory.root.path)", "database": "\(dataDirectory.location.displayed)",
                ])
        },
        logger: logger)
}

/// How long a connection may sit idle (keep-alive between requests, or a request that stops
/// arriving) before it is closed, so idle clients cannot hold descriptors forever. A response
/// being written (an event stream, a slow download) is never cut by it.
let connectionIdleTimeout: TimeAmount = .seconds(60)

/// Runs beside the HTTP server; at shutdown (after the server has drained) it cancels the
/// running job, waits for it to clean up, and releases the data directory.
struct JobRunnerService: Service {
    let runner: JobRunner
    let serverLock: ServerLock
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        if let job = await runner.currentJob {
            logger.notice("shutting down: cancelling the running job", metadata: ["backup_id": "\(job.backupID)"])
        }
        await runner.shutdown()
        runner.service.catalog.close()
        serverLock.release()
        logger.notice("backup-api stopped")
    }
}

/// Polls the catalog for changes (another process's backups, deletions, prunes) and publishes
/// them to `/api/events` until graceful shutdown.
struct CatalogWatchService: Service {
    let runner: JobRunner
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do throws(BackupError) {
                try await runner.watchCatalog(every: interval)
            } catch {
                logger.error("cannot watch the catalog for changes", metadata: ["error": "\(error.message)"])
            }
        }
    }
}

/// Runs the scheduler until graceful shutdown.
struct SchedulerService: Service {
    let scheduler: Scheduler

    func run() async throws {
        await cancelWhenGracefulShutdown { await scheduler.run() }
    }
}

/// Runs the off-site start-up and the upload retries until graceful shutdown.
struct UploadRetryService: Service {
    let retrier: UploadRetrier

    func run() async throws {
        await cancelWhenGracefulShutdown { await retrier.run() }
    }
}
