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

    struct Patch: Decodable {
        struct Retention: Decodable {
            var keepLast: Int?
            var keepDays: Int?
            var keepDaily: Int?
            var keepWeekly: Int?
            var keepMonthly: Int?
            var includeManual: Bool?

            enum CodingKeys: String, CodingKey {
                case keepLast = "keep_last"
                case keepDays = "keep_days"
                case keepDaily = "keep_daily"
                case keepWeekly = "keep_weekly"
                case keepMonthly = "keep_monthly"
                case includeManual = "include_manual"
            }
        }

        var enabled: Bool?
        var intervalHours: Int?
        var retention: Retention?
        var compressionLevel: Int?
        var webhookURL: String??

        enum CodingKeys: String, CodingKey {
            case enabled
            case intervalHours = "interval_hours"
            case retention
            case compressionLevel = "compression_level"
            case webhookURL = "webhook_url"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
            intervalHours = try container.decodeIfPresent(Int.self, forKey: .intervalHours)
            retention = try container.decodeIfPresent(Retention.self, forKey: .retention)
            compressionLevel = try container.decodeIfPresent(Int.self, forKey: .compressionLevel)
            if container.contains(.webhookURL) {
                webhookURL =
                    try container.decodeNil(forKey: .webhookURL)
                    ? .some(nil) : try container.decode(String.self, forKey: .webhookURL)
            }
        }

        func applied(to settings: BackupSettings) -> BackupSettings {
            var settings = settings
            if let enabled { settings.enabled = enabled }
            if let intervalHours { settings.intervalHours = intervalHours }
            if let compressionLevel { settings.compressionLevel = compressionLevel }
            if let webhookURL { settings.webhookURL = webhookURL }
            if let retention {
                if let value = retention.keepLast { settings.retention.keepLast = value }
                if let value = retention.keepDays { settings.retention.keepDays = value }
                if let value = retention.keepDaily { settings.retention.keepDaily = value }
                if let value = retention.keepWeekly { settings.retention.keepWeekly = value }
                if let value = retention.keepMonthly { settings.retention.keepMonthly = value }
                if let value = retention.includeManual { settings.retention.includeManual = value }
            }
            return settings
        }
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let patch = try await request.decodeJSON(Patch.self)
        let saved = try services.service.saveSettings(patch.applied(to: try services.service.catalog.settings()))
        await services.scheduler.reschedule()
        return try .json(saved)
    }
}
