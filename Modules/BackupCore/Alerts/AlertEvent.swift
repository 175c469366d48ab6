import Foundation

/// What an alert is about, with the text a chat message gives it in the operator's language.
public enum AlertEvent: String, Sendable {
    case backupFailed = "backup.failed"
    case uploadFailed = "upload.failed"
    case backupSucceeded = "backup.succeeded"

    /// The longest error quoted in a chat message, in characters (a message holds 4096).
    static let maximumErrorLength = 1000

    /// A short plain-text message: what happened, on which host, which backup, the error.
    public func text(backup: BackupInfo?, error: String?, host: String, language: AlertSettings.Language) -> String {
        let words = Words.of(language)
        var lines: [String] = []
        switch self {
        case .backupFailed: lines.append("❌ \(words.backupFailed) (\(host))")
        case .uploadFailed: lines.append("⚠️ \(words.uploadFailed) (\(host))")
        case .backupSucceeded: lines.append("✅ \(words.backupSucceeded) (\(host))")
        }
        if let backup {
            var details = [backup.scope.rawValue, backup.type.rawValue]
            if self == .backupSucceeded, let size = backup.sizeBytes { details.append(ByteCount.format(size)) }
            lines.append("\(words.backup): \(backup.id) (\(details.joined(separator: ", ")))")
        }
        if let error, !error.isEmpty {
            let quoted =
                error.count > Self.maximumErrorLength ? String(error.prefix(Self.maximumErrorLength)) + "…" : error
            lines.append("\(words.error): \(quoted)")
        }
        if self == .uploadFailed { lines.append(words.uploadRetried) }
        return lines.joined(separator: "\n")
    }

    /// The words of one language.
    private struct Words {
        let backupFailed, uploadFailed, backupSucceeded, backup, error, uploadRetried: String

        static func of(_ language: AlertSettings.Language) -> Words {
            switch language {
            case .en:
                Words(
                    backupFailed: "Backup failed", uploadFailed: "Off-site upload failed",
                    backupSucceeded: "Backup completed", backup: "Backup", error: "Error",
                    uploadRetried: "The local backup is intact; the upload will be retried.")
            case .ru:
                Words(
                    backupFailed: "Резервное копирование не удалось",
                    uploadFailed: "Не удалось выгрузить копию во внешнее хранилище",
                    backupSucceeded: "Резервная копия создана", backup: "Копия", error: "Ошибка",
                    uploadRetried: "Локальная копия цела; выгрузка будет повторена.")
            }
        }
    }
}
