import Foundation

/// `backup doctor`'s checks of a data directory: its permissions and free space, the protected
/// database, the secret files' modes, the catalog, the schedule against the last success, and
/// the off-site target when copies are on.
///
/// Read-only: nothing is created, written or repaired, locally (the catalog is opened read-only,
/// `immutable` while no process has it open,
/// the SQLite database's journal mode is read from its header) or off-site (a listing, never
/// the settings page's write test). Each check's failure is one ``HealthCheck``; only a data
/// directory that does not exist fails the whole run (``BackupError/dataDirectoryMissing(path:)``).
public struct HealthChecks: Sendable {
    public let dataDirectory: DataDirectory
    /// The environment the credentials come from (`AWS_*`, `PGPASSWORD`, `PATH`).
    public let environment: [String: String]
    public let now: @Sendable () -> Date

    public init(
        dataDirectory: DataDirectory, environment: [String: String] = ProcessInfo.processInfo.environment,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.dataDirectory = dataDirectory
        self.environment = environment
        self.now = now
    }

    /// Runs every check, in a fixed order.
    public func run() async throws(BackupError) -> [HealthCheck] {
        try dataDirectory.requireExisting()
        var checks = [directoryMode()]
        var service: BackupService?
        var settings: BackupSettings?
        var stats: BackupStats?
        do throws(BackupError) {
            let opened = BackupService(
                dataDirectory: dataDirectory, catalog: try Catalog(inspecting: dataDirectory), clock: now)
            service = opened
            settings = try opened.settings()
            stats = try opened.stats()
        } catch {
            checks.append(
                HealthCheck(
                    name: "catalog", status: .fail, detail: "cannot read the catalog: \(error.message)",
                    fix: "restore DATA_DIR/backups/catalog.sqlite from a copy, or move it aside to start a new one"))
        }
        let lastBackup = try? service?.catalog.page(BackupQuery(limit: 1, status: .completed)).items.first
        checks.append(freeSpace(lastBackup: lastBackup.flatMap(SpaceNeed.init)))
        checks.append(await database())
        checks += secretFiles(passphraseFile: settings?.encryption.passphraseFile)
        if let service, let settings {
            checks.append(catalogIntegrity(service.catalog))
            checks.append(schedule(settings, lastSuccess: stats?.lastSuccessAt))
            checks.append(await offsite(service: service, settings: settings))
        }
        service?.catalog.close()
        return checks
    }

}
