import Foundation

/// A settings change and what retention does about it at once.
public struct SettingsChange: Sendable, Equatable {
    /// The settings as saved (in a preview: as they would be saved).
    public var settings: BackupSettings
    /// The backups retention deleted when the settings were saved (in a preview: the backups it
    /// would delete now), newest first.
    public var deleted: [BackupInfo]

    public init(settings: BackupSettings, deleted: [BackupInfo]) {
        self.settings = settings
        self.deleted = deleted
    }
}

extension SettingsChange {
    /// A preview as both faces print it (`PUT /api/settings/backup?dry_run=true`, `backup settings
    /// set --dry-run --json`): `{"settings", "would_delete"}`.
    public struct Preview: Codable, Sendable {
        public var settings: BackupSettings
        public var wouldDelete: [BackupInfo]

        enum CodingKeys: String, CodingKey {
            case settings
            case wouldDelete = "would_delete"
        }
    }

    /// This change read as a preview: what would be saved and deleted.
    public var asPreview: Preview { Preview(settings: settings, wouldDelete: deleted) }
}

extension BackupService {
    /// What saving `settings` would do now: the settings as they would be stored and the
    /// backups retention would delete at once under them (`secretChange` and `tokenChange` are judged, not stored).
    ///
    /// A preview only: it validates and reads, takes no lock and writes nothing. A job that ends
    /// between the preview and the save can change the answer (its own prune runs first).
    public func previewSettings(
        _ settings: BackupSettings, secretChange: OffsiteSecret.Change? = nil, tokenChange: StoredSecret.Change? = nil
    ) throws(BackupError) -> SettingsChange {
        let settings = try judged(settings, secretChange: secretChange, tokenChange: tokenChange)
        let records = try catalog.allRecords().filter {
            $0.store == localStore.name || $0.store == RepositoryLayout.storeName
        }
        let plan = try localRetentionPlan(
            records, policy: settings.retention, offsiteEnabled: settings.offsite.enabled)
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        return SettingsChange(settings: settings, deleted: plan.deleted.compactMap { byID[$0]?.info })
    }
}
