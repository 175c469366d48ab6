import Foundation
import GRDB

/// The single row of `backup_settings`.
struct SettingsRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "backup_settings"

    var id = 1
    var enabled: Bool
    var intervalHours: Int
    var keepLast: Int
    var keepDays: Int
    var keepDaily: Int
    var keepWeekly: Int
    var keepMonthly: Int
    var includeManual: Bool
    var codec: CodecName
    var compressionLevel: Int
    var webhookURL: String?
    var restoreLockTimeoutSeconds: Int
    var maxImportBytes: Int64
    /// The off-site settings as one JSON object (catalog v10), without the credentials' state,
    /// which is read from the secret file and the environment; the secret is never here.
    var offsite: OffsiteSettings
    /// The encryption settings as one JSON object (catalog v12), without the key file's and the
    /// environment's state; never a key or a passphrase.
    var encryption: EncryptionSettings
    /// The file directories and exclude patterns as JSON arrays, the default scope (NULL:
    /// automatic) and retention's per-scope switch (catalog v13).
    var directories: [String]
    var exclude: [String]
    var defaultScope: BackupScope?
    var retentionPerScope: Bool
    /// The heartbeat URL and the chat alerts as one JSON object (catalog v14), without the bot
    /// token's state; the token itself is never here.
    var heartbeatURL: String?
    var alerts: AlertSettings
    /// How new backups are stored (catalog v16).
    var format: BackupFormat
    /// When automatic backups were last switched on (the scheduler counts from here).
    var enabledAt: Date?
    var updatedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, enabled
        case intervalHours = "interval_hours"
        case keepLast = "keep_last"
        case keepDays = "keep_days"
        case keepDaily = "keep_daily"
        case keepWeekly = "keep_weekly"
        case keepMonthly = "keep_monthly"
        case includeManual = "include_manual"
        case codec
        case compressionLevel = "compression_level"
        case webhookURL = "webhook_url"
        case restoreLockTimeoutSeconds = "restore_lock_timeout_seconds"
        case maxImportBytes = "max_import_bytes"
        case enabledAt = "enabled_at"
        case updatedAt = "updated_at"
        case offsite
        case encryption
        case directories, exclude
        case defaultScope = "default_scope"
        case retentionPerScope = "retention_per_scope"
        case heartbeatURL = "heartbeat_url"
        case alerts
        case format
    }

    init(_ settings: BackupSettings, enabledAt: Date?, updatedAt: Date?) {
        enabled = settings.enabled
        intervalHours = settings.intervalHours
        keepLast = settings.retention.keepLast
        keepDays = settings.retention.keepDays
        keepDaily = settings.retention.keepDaily
        keepWeekly = settings.retention.keepWeekly
        keepMonthly = settings.retention.keepMonthly
        includeManual = settings.retention.includeManual
        codec = settings.codec
        compressionLevel = settings.compressionLevel
        webhookURL = settings.webhookURL
        restoreLockTimeoutSeconds = settings.restoreLockTimeoutSeconds
        maxImportBytes = settings.maxImportBytes
        offsite = settings.offsite
        offsite.secretAccessKeySet = false
        offsite.credentialsFromEnvironment = false
        encryption = settings.encryption.stored
        directories = settings.directories
        exclude = settings.exclude
        defaultScope = settings.defaultScope
        retentionPerScope = settings.retention.perScope
        heartbeatURL = settings.heartbeatURL
        alerts = settings.alerts.stored
        format = settings.format
        self.enabledAt = enabledAt
        self.updatedAt = updatedAt
    }

    var settings: BackupSettings {
        BackupSettings(
            enabled: enabled, intervalHours: intervalHours,
            retention: RetentionPolicy(
                keepLast: keepLast, keepDays: keepDays, keepDaily: keepDaily, keepWeekly: keepWeekly,
                keepMonthly: keepMonthly, includeManual: includeManual, perScope: retentionPerScope),
            codec: codec, compressionLevel: compressionLevel, webhookURL: webhookURL,
            restoreLockTimeoutSeconds: restoreLockTimeoutSeconds, maxImportBytes: maxImportBytes,
            offsite: offsite, encryption: encryption, directories: directories, exclude: exclude,
            defaultScope: defaultScope, heartbeatURL: heartbeatURL, alerts: alerts, format: format)
    }
}

extension Catalog {
    /// The current settings.
    public func settings() throws(BackupError) -> BackupSettings {
        try read { db in try SettingsRecord.fetchOne(db)?.settings ?? BackupSettings() }
    }

    /// When automatic backups were last switched on, if they are on.
    public func automaticBackupsEnabledAt() throws(BackupError) -> Date? {
        try read { db in
            guard let record = try SettingsRecord.fetchOne(db), record.enabled else { return nil }
            return record.enabledAt
        }
    }

    /// Validates and stores `settings`; returns what was stored.
    @discardableResult
    public func saveSettings(_ settings: BackupSettings, now: Date) throws(BackupError) -> BackupSettings {
        let settings = try settings.validated()
        return try write { db in
            let previous = try SettingsRecord.fetchOne(db)
            let enabledAt = settings.enabled ? (previous?.enabled == true ? previous?.enabledAt ?? now : now) : nil
            try SettingsRecord(settings, enabledAt: enabledAt, updatedAt: now).save(db)
            return settings
        }
    }
}

extension CodecName: DatabaseValueConvertible {}
extension BackupScope: DatabaseValueConvertible {}
extension BackupFormat: DatabaseValueConvertible {}
