/// A partial settings change: absent fields keep their values, a `null` webhook removes it.
public struct SettingsPatch: Decodable, Sendable {
    public struct Retention: Decodable, Sendable {
        var keepLast: Int?
        var keepDays: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        var includeManual: Bool?

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: RetentionPolicy.CodingKeys.self)
            keepLast = try container.decodeIfPresent(Int.self, forKey: .keepLast)
            keepDays = try container.decodeIfPresent(Int.self, forKey: .keepDays)
            keepDaily = try container.decodeIfPresent(Int.self, forKey: .keepDaily)
            keepWeekly = try container.decodeIfPresent(Int.self, forKey: .keepWeekly)
            keepMonthly = try container.decodeIfPresent(Int.self, forKey: .keepMonthly)
            includeManual = try container.decodeIfPresent(Bool.self, forKey: .includeManual)
        }
    }

    var enabled: Bool?
    var intervalHours: Int?
    var retention: Retention?
    var compressionLevel: Int?
    var webhookURL: String??
    var restoreLockTimeoutSeconds: Int?
    var maxImportBytes: Int64?

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: BackupSettings.CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
        intervalHours = try container.decodeIfPresent(Int.self, forKey: .intervalHours)
        retention = try container.decodeIfPresent(Retention.self, forKey: .retention)
        compressionLevel = try container.decodeIfPresent(Int.self, forKey: .compressionLevel)
        restoreLockTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .restoreLockTimeoutSeconds)
        maxImportBytes = try container.decodeIfPresent(Int64.self, forKey: .maxImportBytes)
        if container.contains(.webhookURL) {
            webhookURL =
                try container.decodeNil(forKey: .webhookURL)
                ? .some(nil) : try container.decode(String.self, forKey: .webhookURL)
        }
    }

    /// `settings` with this patch's fields replaced (not yet validated).
    public func applied(to settings: BackupSettings) -> BackupSettings {
        var settings = settings
        if let enabled { settings.enabled = enabled }
        if let intervalHours { settings.intervalHours = intervalHours }
        if let compressionLevel { settings.compressionLevel = compressionLevel }
        if let webhookURL { settings.webhookURL = webhookURL }
        if let restoreLockTimeoutSeconds { settings.restoreLockTimeoutSeconds = restoreLockTimeoutSeconds }
        if let maxImportBytes { settings.maxImportBytes = maxImportBytes }
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
