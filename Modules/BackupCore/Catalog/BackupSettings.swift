import Foundation

/// How many backups to keep. A backup is kept when any rule keeps it.
public struct RetentionPolicy: Codable, Equatable, Sendable {
    /// Keep the newest N.
    public var keepLast: Int
    /// Keep every backup younger than D days (0: off).
    public var keepDays: Int
    /// Keep the newest backup of each of the last N days, ISO weeks, months (0: off).
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int
    /// Apply the rules to manual and imported backups too, not only automatic ones.
    public var includeManual: Bool
    /// Apply the rules to each scope separately (`keep_last` 10 keeps 10 database, 10 files and
    /// 10 full backups); off: to all scopes together.
    public var perScope: Bool

    public init(
        keepLast: Int = 10, keepDays: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0, keepMonthly: Int = 0,
        includeManual: Bool = false, perScope: Bool = false
    ) {
        self.keepLast = keepLast
        self.keepDays = keepDays
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.includeManual = includeManual
        self.perScope = perScope
    }

    enum CodingKeys: String, CodingKey {
        case keepLast = "keep_last"
        case keepDays = "keep_days"
        case keepDaily = "keep_daily"
        case keepWeekly = "keep_weekly"
        case keepMonthly = "keep_monthly"
        case includeManual = "include_manual"
        case perScope = "per_scope"
    }
}

/// The operator's backup settings, one set per data directory.
public struct BackupSettings: Codable, Equatable, Sendable {
    public static let intervalRange = 1...8760
    public static let maximumCount = 100_000
    /// Every field a client sets, as JSON paths: the API's PUT body and the CLI's `settings set`
    /// keys (without `retention.`) name exactly these.
    public static let fieldNames =
        [
            "enabled", "interval_hours", "retention.keep_last", "retention.keep_days", "retention.keep_daily",
            "retention.keep_weekly", "retention.keep_monthly", "retention.include_manual", "retention.per_scope",
            "codec", "compression_level", "webhook_url", "restore_lock_timeout_seconds", "max_import_bytes",
            "directories", "exclude", "default_scope", "heartbeat_url", "format",
        ] + OffsiteSettings.fieldNames.map { "offsite.\($0)" }
        + EncryptionSettings.fieldNames.map { "encryption.\($0)" } + AlertSettings.fieldNames.map { "alerts.\($0)" }
    /// The fields only the server sets, as JSON paths (a PUT naming one is refused as read-only).
    public static let readOnlyFieldNames =
        OffsiteSettings.readOnlyFieldNames.map { "offsite.\($0)" }
        + EncryptionSettings.readOnlyFieldNames.map { "encryption.\($0)" }
        + AlertSettings.readOnlyFieldNames.map { "alerts.\($0)" }
    public static let restoreLockTimeoutRange = 1...3600
    /// The bounds of ``maxImportBytes``: 1 MiB to 1 PiB.
    public static let importLimitRange: ClosedRange<Int64> = (1 << 20)...(1 << 50)
    /// 64 GiB: generous, yet an upload cannot fill a large disk by itself.
    public static let defaultMaxImportBytes: Int64 = 64 << 30

    public var enabled: Bool
    public var intervalHours: Int
    public var retention: RetentionPolicy
    /// How new bundles are compressed (gzip by default: `tar -xzf` opens them).
    public var codec: CodecName
    /// Within the codec's range: gzip 1-9, zstd 1-19 (``CodecName/levels``).
    public var compressionLevel: Int
    @ExplicitNull public var webhookURL: String?
    /// How long a restore waits for the write lock on the live database (the application's
    /// transactions to end) before it gives up and leaves the database unchanged.
    public var restoreLockTimeoutSeconds: Int

    /// The largest bundle an import accepts, in bytes; a larger upload is cut off with 413.
    public var maxImportBytes: Int64

    /// The off-site copy: the S3 bucket and remote retention.
    public var offsite: OffsiteSettings

    /// Encryption at rest in the age format.
    public var encryption: EncryptionSettings

    /// The application's file directories (absolute paths) that `files` and `full` backups hold,
    /// each under `files/<name>/` in the bundle.
    public var directories: [String]
    /// Glob patterns of paths left out of every directory (`*.tmp`, `cache/**`).
    public var exclude: [String]
    /// The scope of a backup that names none (automatic backups included); nil: automatic,
    /// `full` when directories are configured, else `database` (see ``scopeByDefault``).
    @ExplicitNull public var defaultScope: BackupScope?

    /// The dead man's switch: pinged after each backup, `<url>/fail` after a failed one.
    @ExplicitNull public var heartbeatURL: String?
    /// Chat alerts (Telegram).
    public var alerts: AlertSettings
    /// How new backups are stored: bundles (the default) or incremental backups in the
    /// repository (switching affects new backups only).
    public var format: BackupFormat

    public init(
        enabled: Bool = false, intervalHours: Int = 24, retention: RetentionPolicy = RetentionPolicy(),
        codec: CodecName = .gzip, compressionLevel: Int = CodecName.gzip.defaultLevel, webhookURL: String? = nil,
        restoreLockTimeoutSeconds: Int = 30,
        maxImportBytes: Int64 = defaultMaxImportBytes, offsite: OffsiteSettings = OffsiteSettings(),
        encryption: EncryptionSettings = EncryptionSettings(), directories: [String] = [], exclude: [String] = [],
        defaultScope: BackupScope? = nil, heartbeatURL: String? = nil, alerts: AlertSettings = AlertSettings(),
        format: BackupFormat = .bundle
    ) {
        self.enabled = enabled
        self.intervalHours = intervalHours
        self.retention = retention
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.webhookURL = webhookURL
        self.restoreLockTimeoutSeconds = restoreLockTimeoutSeconds
        self.maxImportBytes = maxImportBytes
        self.offsite = offsite
        self.encryption = encryption
        self.directories = directories
        self.exclude = exclude
        self.defaultScope = defaultScope
        self.heartbeatURL = heartbeatURL
        self.alerts = alerts
        self.format = format
    }

    enum CodingKeys: String, CodingKey {
        case enabled
        case intervalHours = "interval_hours"
        case retention
        case codec
        case compressionLevel = "compression_level"
        case webhookURL = "webhook_url"
        case restoreLockTimeoutSeconds = "restore_lock_timeout_seconds"
        case maxImportBytes = "max_import_bytes"
        case offsite
        case encryption
        case directories, exclude
        case defaultScope = "default_scope"
        case heartbeatURL = "heartbeat_url"
        case alerts
        case format
    }

    /// Every field's problem, keyed by its JSON path (`retention.keep_last`); empty when valid.
    public var problems: [String: String] {
        var fields: [String: String] = [:]
        if !Self.intervalRange.contains(intervalHours) {
            fields["interval_hours"] = "must be between 1 and 8760 hours"
        }
        let counts: [(String, Int)] = [
            ("keep_last", retention.keepLast), ("keep_days", retention.keepDays),
            ("keep_daily", retention.keepDaily), ("keep_weekly", retention.keepWeekly),
            ("keep_monthly", retention.keepMonthly),
        ]
        for (name, value) in counts where !(0...Self.maximumCount).contains(value) {
            fields["retention.\(name)"] = "must be between 0 and \(Self.maximumCount)"
        }
        if enabled, retention.keepLast < 1, fields["retention.keep_last"] == nil {
            fields["retention.keep_last"] = "must be at least 1 while automatic backups are on"
        }
        if !codec.levels.contains(compressionLevel) {
            let (lowest, highest) = (codec.levels.lowerBound, codec.levels.upperBound)
            fields["compression_level"] = "must be between \(lowest) and \(highest) with codec \(codec.rawValue)"
            fields["codec"] =
                "\(codec.rawValue) takes compression_level \(lowest) to \(highest), not \(compressionLevel)"
        }
        if !Self.restoreLockTimeoutRange.contains(restoreLockTimeoutSeconds) {
            fields["restore_lock_timeout_seconds"] = "must be between 1 and 3600 seconds"
        }
        if let webhookURL, !webhookURL.isEmpty, let problem = WebhookTarget.problem(with: webhookURL) {
            fields["webhook_url"] = problem
        }
        if let heartbeatURL, !heartbeatURL.isEmpty, let problem = WebhookTarget.problem(with: heartbeatURL) {
            fields["heartbeat_url"] = problem
        }
        if !Self.importLimitRange.contains(maxImportBytes) {
            fields["max_import_bytes"] = "must be between 1048576 (1 MiB) and 1125899906842624 (1 PiB) bytes"
        }
        fields.merge(offsite.problems) { own, _ in own }
        fields.merge(encryption.problems) { own, _ in own }
        fields.merge(alerts.problems) { own, _ in own }
        fields.merge(directoryProblems) { own, _ in own }
        return fields
    }

    /// `self`, or ``BackupError/invalidInput(fields:)`` naming each bad field.
    public func validated() throws(BackupError) -> BackupSettings {
        let problems = problems
        guard problems.isEmpty else { throw .invalidInput(fields: problems) }
        var settings = self
        if settings.webhookURL?.isEmpty == true { settings.webhookURL = nil }
        if settings.heartbeatURL?.isEmpty == true { settings.heartbeatURL = nil }
        settings.alerts = settings.alerts.normalized
        settings.offsite = settings.offsite.normalized
        settings.encryption = settings.encryption.normalized
        settings.directories = settings.directories.map(DirectoryRules.normalized)
        return settings
    }
}
