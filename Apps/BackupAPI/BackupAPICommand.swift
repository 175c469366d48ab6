import ArgumentParser
import BackupCore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `backup-api`: the REST server of Backup Manager.
@main
struct BackupAPICommand: AsyncParsableCommand, AppArguments {
    static let configuration = CommandConfiguration(
        commandName: "backup-api",
        abstract: "The Backup Manager REST API and web settings page.",
        discussion: """
            Every /api route needs `Authorization: Bearer TOKEN`. The token comes from \
            BACKUP_API_TOKEN, else --token-file, else DATA_DIR/api-token (generated, mode 0600, \
            on first start).
            """,
        version: BackupManagerVersion.current)

    @Option(help: "Address to listen on (env BACKUP_HOST). Loopback unless you say otherwise.")
    var host: String = ProcessInfo.processInfo.environment["BACKUP_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (env BACKUP_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["BACKUP_PORT"].flatMap(Int.init) ?? 8080

    @Option(help: "The data directory (env BACKUP_DATA_DIR).")
    var dataDir: String = ProcessInfo.processInfo.environment["BACKUP_DATA_DIR"] ?? "data"

    @Option(
        name: .customLong("database"),
        help: """
            The protected database: a SQLite path or a postgresql://USER@HOST:PORT/DBNAME URL \
            (env BACKUP_DATABASE; default DATA_DIR/app.sqlite). Keep a password out of it: \
            PGPASSWORD or ~/.pgpass.
            """)
    var databaseOption: String?

    @Option(name: .customLong("token-file"), help: "A file holding the API token, mode 0600 (env BACKUP_TOKEN_FILE).")
    var tokenFileOption: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env BACKUP_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["BACKUP_LOG_LEVEL"] ?? "info"

    @Option(help: "text (human-readable lines) or json (one JSON object per line on stderr) (env BACKUP_LOG_FORMAT).")
    var logFormat: String = LogFormat.environmentValue

    var database: String? { databaseOption ?? ProcessInfo.processInfo.environment["BACKUP_DATABASE"] }
    var databaseFromArguments: Bool { databaseOption != nil }
    var tokenFile: String? { tokenFileOption ?? ProcessInfo.processInfo.environment["BACKUP_TOKEN_FILE"] }
    @Option(
        help:
            "After a restore: exec (re-execute this binary) or exit (status 75, for a supervisor) (env BACKUP_RESTART_MODE)."
    )
    var restartMode: String = ProcessInfo.processInfo.environment["BACKUP_RESTART_MODE"] ?? RestartMode.exec.rawValue

    @Option(
        name: .customLong("assets-dir"),
        help:
            "The folder holding web/ and i18n/ (env BACKUP_ASSETS_DIR; default: found beside the working directory or the executable)."
    )
    var assetsDirOption: String?

    @Option(
        name: .customLong("drain-timeout"),
        help:
            "Seconds a shutdown, a restart or a restore's maintenance waits for running requests; then their connections are closed (env BACKUP_DRAIN_TIMEOUT)."
    )
    var drainTimeoutSeconds: Int = ProcessInfo.processInfo.environment["BACKUP_DRAIN_TIMEOUT"].flatMap(Int.init) ?? 10

    @Option(
        name: .customLong("import-idle-timeout"),
        help: "Cut off an import when nothing of it arrives for this many seconds.")
    var importIdleTimeout: Double = ImportPace.standard.idleTimeout

    @Option(
        name: .customLong("import-min-rate"),
        help: "Cut off an import averaging fewer KiB/s than this once --import-grace seconds have passed (0: off).")
    var importMinimumRate: Int = Int(ImportPace.standard.minimumRate / 1024)

    @Option(name: .customLong("import-grace"), help: "Seconds before an import's average rate counts.")
    var importGracePeriod: Double = ImportPace.standard.gracePeriod

    var importPace: ImportPace {
        ImportPace(
            idleTimeout: importIdleTimeout, minimumRate: Int64(importMinimumRate) * 1024,
            gracePeriod: importGracePeriod)
    }

    var token: String? { ProcessInfo.processInfo.environment["BACKUP_API_TOKEN"] }
    var assetsDir: String? { assetsDirOption ?? ProcessInfo.processInfo.environment["BACKUP_ASSETS_DIR"] }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...3600).contains(drainTimeoutSeconds) else {
            throw ValidationError("--drain-timeout must be between 0 and 3600 seconds")
        }
        guard RestartMode(rawValue: restartMode) != nil else {
            throw ValidationError("--restart-mode must be exec or exit")
        }
        if let assetsDir, WebAssets.locate(assetsDir) == nil {
            throw ValidationError("--assets-dir \(assetsDir) holds no web/index.html and i18n/en.json")
        }
        guard importIdleTimeout > 0, importGracePeriod >= 0, importMinimumRate >= 0 else {
            throw ValidationError(
                "--import-idle-timeout must be positive, --import-min-rate and --import-grace not negative")
        }
        do throws(BackupError) {
            _ = try DataDirectory(root: dataDir, parsingDatabase: database)
        } catch .invalidInput(let fields) {
            let source = databaseOption != nil ? "--database" : "BACKUP_DATABASE"
            throw ValidationError("invalid \(source): " + fields.values.sorted().joined(separator: "; "))
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError(LogFormat.usage) }
    }

    /// Parses the command line and runs; in JSON log mode a command line that does not parse
    /// (or `--help`) is reported as one JSON line too, so that nothing else reaches the log.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let requested = LogFormat.requested(in: arguments, environment: ProcessInfo.processInfo.environment)
            guard requested == .json, !(error is ExitCode) else { exit(withError: error) }
            let line = JSONLogHandler.line(
                time: Date(), level: code == .success ? .info : .error, label: "backup-api",
                message: fullMessage(for: error), source: "BackupAPI", metadata: ["exit_code": "\(code.rawValue)"])
            FileHandle.standardError.write(Data(line.utf8))
            Glibc.exit(code.rawValue)
        }
    }

    func run() async throws {
        RestartMode.recordInheritedDescriptors()
        let format = LogFormat(rawValue: logFormat) ?? .text
        format.bootstrap(level: logLevel, textToStandardError: false)
        let restarts = RestartRequests()
        let connections = OpenConnections()
        // Once per process (a restart after a restore is a new process): swift-metrics records
        // into the registry `GET /metrics` shows.
        let metricsRegistry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.backupManager(registry: metricsRegistry))
        do {
            let app = try await buildApplication(
                self, restarts: restarts, connections: connections, metricsRegistry: metricsRegistry)
            let deadline = DrainDeadline(
                connections: connections, timeout: .seconds(drainTimeoutSeconds), logger: app.logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [app, deadline], gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger))
            if let outcome = try await Self.run(group, restartingOn: restarts.outcomes, logger: app.logger) {
                (RestartMode(rawValue: restartMode) ?? .exec).perform(after: outcome, logger: app.logger)
            }
        } catch let error as BackupError {
            if format == .json {
                Logger(label: "backup-api").critical("cannot start", metadata: ["error": "\(error.message)"])
            } else {
                FileHandle.standardError.write(Data("backup-api: \(error.message)\n".utf8))
            }
            throw ExitCode(1)
        }
    }

    /// Runs `group` until it stops; a restore's outcome arriving meanwhile shuts it down
    /// gracefully and is returned, for the restart. A group that fails after the restore began
    /// shutting it down still restarts (the failure is logged); one that fails otherwise throws.
    /// A SIGTERM or SIGINT (the operator stopping the server) wins over a restart in progress:
    /// nothing is returned and the server exits instead of coming back.
    private static func run(
        _ group: ServiceGroup, restartingOn outcomes: AsyncStream<RestoreOutcome>, logger: Logger
    ) async throws -> RestoreOutcome? {
        enum Ended: Sendable {
            case stopped((any Error)?)
            case restore(RestoreOutcome)
            case signalled
        }
        return try await withThrowingTaskGroup(of: Ended.self) { tasks in
            tasks.addTask {
                do { try await group.run() } catch { return .stopped(error) }
                return .stopped(nil)
            }
            tasks.addTask {
                for await outcome in outcomes {
                    await group.triggerGracefulShutdown()
                    return .restore(outcome)
                }
                return .stopped(nil)
            }
            tasks.addTask {
                // The service group shuts down on these too; this only remembers that it was asked.
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return .signalled }
                return .stopped(nil)
            }
            var outcome: RestoreOutcome?
            var signalled = false
            while let ended = try await tasks.next() {
                switch ended {
                case .signalled:
                    signalled = true
                case .restore(let restored):
                    outcome = restored
                case .stopped(let error):
                    // The server has stopped: stop waiting for a restore.
                    tasks.cancelAll()
                    guard let error else { continue }
                    guard outcome != nil else { throw error }
                    logger.warning("shutdown before the restart reported: \(error)")
                }
            }
            if signalled, outcome != nil { logger.notice("stopped by a signal: no restart after the restore") }
            return signalled ? nil : outcome
        }
    }
}
