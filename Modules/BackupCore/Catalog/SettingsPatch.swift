/// A partial settings change: absent fields keep their values, a `null` webhook removes it.
///
/// The one reading of a change for both faces: the API decodes it from its JSON body, the CLI
/// parses it from `KEY=VALUE` words (``init(assignments:)``); ``applied(to:)`` then gives the
/// settings, which ``BackupSettings/problems`` judges (ranges, the codec and level pair).
public struct SettingsPatch: Decodable, Sendable {
    public struct Retention: Decodable, Sendable {
        var keepLast: Int?
        var keepDays: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        var includeManual: Bool?
        var perScope: Bool?

        init() {}

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: RetentionPolicy.CodingKeys.self)
            keepLast = try container.decodeIfPresent(Int.self, forKey: .keepLast)
            keepDays = try container.decodeIfPresent(Int.self, forKey: .keepDays)
            keepDaily = try container.decodeIfPresent(Int.self, forKey: .keepDaily)
            keepWeekly = try container.decodeIfPresent(Int.self, forKey: .keepWeekly)
            keepMonthly = try container.decodeIfPresent(Int.self, forKey: .keepMonthly)
            includeManual = try container.decodeIfPresent(Bool.self, forKey: .includeManual)
            perScope = try container.decodeIfPresent(Bool.self, forKey: .perScope)
        }
    }

    var enabled: Bool?
    var intervalHours: Int?
    var retention: Retention?
    /// As sent; ``applied(to:)`` refuses a name that is no ``CodecName``.
    var codec: String?
    var compressionLevel: Int?
    var webhookURL: String??
    var restoreLockTimeoutSeconds: Int?
    var maxImportBytes: Int64?
    var offsite: Offsite?
    var encryption: Encryption?
    var directories: [String]?
    var exclude: [String]?
    /// As sent (`null`: automatic); ``applied(to:)`` refuses a name that is no ``BackupScope``.
    var defaultScope: String??
    var heartbeatURL: String??
    var alerts: Alerts?
    /// As sent; ``applied(to:)`` refuses a name that is no ``BackupFormat``.
    var format: String?

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: BackupSettings.CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
        intervalHours = try container.decodeIfPresent(Int.self, forKey: .intervalHours)
        retention = try container.decodeIfPresent(Retention.self, forKey: .retention)
        codec = try container.decodeIfPresent(String.self, forKey: .codec)
        compressionLevel = try container.decodeIfPresent(Int.self, forKey: .compressionLevel)
        restoreLockTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .restoreLockTimeoutSeconds)
        maxImportBytes = try container.decodeIfPresent(Int64.self, forKey: .maxImportBytes)
        offsite = try container.decodeIfPresent(Offsite.self, forKey: .offsite)
        encryption = try container.decodeIfPresent(Encryption.self, forKey: .encryption)
        directories = try container.decodeIfPresent([String].self, forKey: .directories)
        exclude = try container.decodeIfPresent([String].self, forKey: .exclude)
        if container.contains(.defaultScope) {
            defaultScope = .some(try container.decodeIfPresent(String.self, forKey: .defaultScope))
        }
        alerts = try container.decodeIfPresent(Alerts.self, forKey: .alerts)
        format = try container.decodeIfPresent(String.self, forKey: .format)
        if container.contains(.heartbeatURL) {
            heartbeatURL = .some(try container.decodeIfPresent(String.self, forKey: .heartbeatURL))
        }
        if container.contains(.webhookURL) {
            webhookURL =
                try container.decodeNil(forKey: .webhookURL)
                ? .some(nil) : try container.decode(String.self, forKey: .webhookURL)
        }
    }

    /// Parses `KEY=VALUE` words (the CLI's `backup settings set`). Keys are the JSON fields of
    /// ``BackupSettings/fieldNames``, the retention ones with or without `retention.`; booleans
    /// are `true`/`false` (or yes/no, on/off, 1/0); an empty `webhook_url` removes it; lists
    /// (`directories`, `exclude`) are comma-separated, empty clears them; `default_scope` empty or
    /// `auto` is automatic. Problems
    /// are ``BackupError/invalidInput(fields:)`` keyed by the JSON field, as the API names them.
    ///
    /// The value `-` of a write-only key (``secretFields``: `offsite.secret_access_key`,
    /// `alerts.telegram_bot_token`) is read with `readSecret` (the CLI reads a line of standard
    /// input, which stays out of shell history and process listings); `-` is refused for every
    /// other key.
    public init(
        assignments: [String], readSecret: () -> String? = { nil }
    ) throws(BackupError) {
        var problems: [String: String] = [:]
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                problems[assignment] = "must be KEY=VALUE"
                continue
            }
            let key = String(parts[0])
            guard let field = Self.field(named: key) else {
                problems[key] = "is not a setting; use one of \(Self.keys.joined(separator: ", "))"
                continue
            }
            var value = String(parts[1])
            if value == "-" {
                guard Self.secretFields.contains(field) else {
                    problems[field] = "only \(Self.secretFields.joined(separator: " and ")) read - from standard input"
                    continue
                }
                guard let secret = readSecret(), !secret.isEmpty else {
                    problems[field] = "standard input gave no secret (\(field)= with nothing after = removes it)"
                    continue
                }
                value = secret
            }
            if let problem = set(field, to: value) { problems[field] = problem }
        }
        guard problems.isEmpty else { throw .invalidInput(fields: problems) }
    }

    /// The off-site secret access key, a write-only setting.
    public static let secretField = "offsite.secret_access_key"
    /// The write-only settings: the off-site secret access key and the Telegram bot token.
    public static let secretFields = [secretField, "alerts.telegram_bot_token"]

    /// The keys `KEY=VALUE` accepts, as short as they may be written (`keep_last`).
    public static let keys = BackupSettings.fieldNames.map {
        $0.hasPrefix("retention.") ? String($0.dropFirst("retention.".count)) : $0
    }

    /// The JSON field `key` names (`keep_last` and `retention.keep_last` both name the latter).
    private static func field(named key: String) -> String? {
        BackupSettings.fieldNames.first { $0 == key || $0 == "retention.\(key)" }
    }

    /// Sets `field` from its text; the problem when the text is not of the field's type.
    private mutating func set(_ field: String, to value: String) -> String? {
        let number = Int(value)
        let flag: Bool? =
            switch value.lowercased() {
            case "true", "yes", "on", "1": true
            case "false", "no", "off", "0": false
            default: nil
            }
        if field.hasPrefix("offsite.") {
            var offsite = self.offsite ?? Offsite()
            let problem = offsite.set(String(field.dropFirst("offsite.".count)), to: value, number: number, flag: flag)
            self.offsite = offsite
            return problem
        }
        if field.hasPrefix("encryption.") {
            var encryption = self.encryption ?? Encryption()
            let problem = encryption.set(String(field.dropFirst("encryption.".count)), to: value, flag: flag)
            self.encryption = encryption
            return problem
        }
        if field.hasPrefix("alerts.") {
            var alerts = self.alerts ?? Alerts()
            let problem = alerts.set(String(field.dropFirst("alerts.".count)), to: value, flag: flag)
            self.alerts = alerts
            return problem
        }
        if let problem = setDirectoryField(field, to: value) { return problem.isEmpty ? nil : problem }
        if Self.booleanFields.contains(field) {
            guard flag != nil else { return "must be true or false" }
        } else if !Self.textFields.contains(field) {
            guard number != nil else { return "must be an integer" }
        }
        var retention = self.retention ?? Retention()
        switch field {
        case "enabled": enabled = flag
        case "interval_hours": intervalHours = number
        case "retention.keep_last": retention.keepLast = number
        case "retention.keep_days": retention.keepDays = number
        case "retention.keep_daily": retention.keepDaily = number
        case "retention.keep_weekly": retention.keepWeekly = number
        case "retention.keep_monthly": retention.keepMonthly = number
        case "retention.include_manual": retention.includeManual = flag
        case "retention.per_scope": retention.perScope = flag
        case "codec": codec = value
        case "format": format = value
        case "compression_level": compressionLevel = number
        case "webhook_url": webhookURL = .some(value.isEmpty ? nil : value)
        case "heartbeat_url": heartbeatURL = .some(value.isEmpty ? nil : value)
        case "restore_lock_timeout_seconds": restoreLockTimeoutSeconds = number
        case "max_import_bytes": maxImportBytes = number.map { Int64($0) }
        default: return "is not a setting"
        }
        if field.hasPrefix("retention.") { self.retention = retention }
        return nil
    }

    private static let booleanFields: Set = ["enabled", "retention.include_manual", "retention.per_scope"]
    private static let textFields: Set = ["codec", "webhook_url", "heartbeat_url", "format"]

    /// `settings` with this patch's fields replaced, not yet judged as a whole (see
    /// ``BackupSettings/validated()``); a codec that is neither gzip nor zstd is refused here.
    public func applied(to settings: BackupSettings) throws(BackupError) -> BackupSettings {
        var settings = settings
        if let codec {
            guard let name = CodecName(rawValue: codec) else {
                throw .invalidInput(fields: ["codec": "must be gzip or zstd"])
            }
            settings.codec = name
        }
        if let format {
            guard let name = BackupFormat(rawValue: format) else {
                throw .invalidInput(fields: ["format": "must be bundle or incremental"])
            }
            settings.format = name
        }
        if let enabled { settings.enabled = enabled }
        if let intervalHours { settings.intervalHours = intervalHours }
        if let compressionLevel { settings.compressionLevel = compressionLevel }
        if let webhookURL { settings.webhookURL = webhookURL }
        if let heartbeatURL { settings.heartbeatURL = heartbeatURL }
        if let alerts { settings.alerts = try alerts.applied(to: settings.alerts) }
        if let restoreLockTimeoutSeconds { settings.restoreLockTimeoutSeconds = restoreLockTimeoutSeconds }
        if let maxImportBytes { settings.maxImportBytes = maxImportBytes }
        if let offsite { settings.offsite = try offsite.applied(to: settings.offsite) }
        if let encryption { settings.encryption = try encryption.applied(to: settings.encryption) }
        try applyDirectoryFields(to: &settings)
        if let retention {
            if let value = retention.keepLast { settings.retention.keepLast = value }
            if let value = retention.keepDays { settings.retention.keepDays = value }
            if let value = retention.keepDaily { settings.retention.keepDaily = value }
            if let value = retention.keepWeekly { settings.retention.keepWeekly = value }
            if let value = retention.keepMonthly { settings.retention.keepMonthly = value }
            if let value = retention.includeManual { settings.retention.includeManual = value }
            if let value = retention.perScope { settings.retention.perScope = value }
        }
        return settings
    }
}
