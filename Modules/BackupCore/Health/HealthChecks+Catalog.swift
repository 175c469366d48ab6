import Foundation
import GRDB

extension HealthChecks {
    /// The catalog's own consistency (SQLite `quick_check`).
    func catalogIntegrity(_ catalog: Catalog) -> HealthCheck {
        do throws(BackupError) {
            let problems = try catalog.quickCheck()
            guard problems == ["ok"] else {
                return HealthCheck(
                    name: "catalog", status: .fail,
                    detail: "the catalog is damaged: " + problems.prefix(3).joined(separator: "; "),
                    fix: "stop the server, keep a copy of DATA_DIR/backups/catalog.sqlite, then restore it from a copy")
            }
        } catch {
            return HealthCheck(name: "catalog", status: .fail, detail: "cannot check the catalog: \(error.message)")
        }
        return .ok("catalog", "integrity ok")
    }

    /// With automatic backups on: the last success against the interval (a warning past one
    /// and a half intervals, a failure past two).
    func schedule(_ settings: BackupSettings, lastSuccess: Date?) -> HealthCheck {
        guard settings.enabled else {
            return .ok("last-success", "automatic backups are off")
        }
        let interval = TimeInterval(settings.intervalHours) * 3600
        let fix = "look at `backup stats` and the server's log; is backup-api (or the backup.timer) running?"
        guard let lastSuccess else {
            return HealthCheck(
                name: "last-success", status: .warn,
                detail: "automatic backups every \(settings.intervalHours) h, none has succeeded yet", fix: fix)
        }
        let age = now().timeIntervalSince(lastSuccess)
        let said = "the last success was \(Self.hours(age)) ago, the interval is \(settings.intervalHours) h"
        if age > interval * 2 {
            return HealthCheck(name: "last-success", status: .fail, detail: said, fix: fix)
        }
        if age > interval * 1.5 {
            return HealthCheck(name: "last-success", status: .warn, detail: said, fix: fix)
        }
        return .ok("last-success", said)
    }

    /// With off-site copies on: the target answers a listing of the prefix with these
    /// credentials (read-only: nothing is written to the bucket).
    func offsite(service: BackupService, settings: BackupSettings) async -> HealthCheck {
        guard settings.offsite.enabled else { return .ok("offsite", "off-site copies are off") }
        var service = service
        service.offsiteEnvironment = OffsiteEnvironment(environment)
        let fix = "check offsite.* with `backup settings show` and `backup remote test`"
        do throws(BackupError) {
            guard let target = try service.offsiteTarget() else { return .ok("offsite", "off-site copies are off") }
            let client = try S3Client(location: target.location, credentials: target.credentials)
            do {
                _ = try await client.list(prefix: S3Client.key(prefix: target.prefix, name: ".backup-manager-doctor"))
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
            return .ok("offsite", "\(target.location.endpoint.absoluteString) bucket \(target.location.bucket) answers")
        } catch {
            return HealthCheck(name: "offsite", status: .fail, detail: error.message, fix: fix)
        }
    }

    static func hours(_ seconds: TimeInterval) -> String {
        seconds < 3600 ? "\(Int(seconds / 60)) min" : String(format: "%.1f h", seconds / 3600)
    }
}

extension Catalog {
    /// SQLite's `PRAGMA quick_check`: `["ok"]`, or the problems it found.
    func quickCheck() throws(BackupError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
    }
}
