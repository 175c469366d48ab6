import Foundation

/// Chat alerts (`alerts` in the settings): a Telegram bot that reports failed backups and
/// uploads, and successes when ``onSuccess`` is on, in the operator's language.
///
/// The bot token is write-only, kept in `DATA_DIR/telegram-token` (``TelegramToken``) or given
/// by `BACKUP_TELEGRAM_BOT_TOKEN`; the settings only say whether one is set
/// (``telegramBotTokenSet``). Messages are sent when both a token and a chat id are set.
public struct AlertSettings: Equatable, Sendable {
    /// The public Bot API.
    public static let defaultTelegramAPIBase = "https://api.telegram.org"

    /// The language of the messages.
    public enum Language: String, Codable, Sendable, CaseIterable {
        case en, ru
    }

    /// Where messages go: a numeric chat id (negative for groups) or `@channelusername`; nil: none.
    public var telegramChatID: String?
    /// The Bot API's base URL (a self-hosted Bot API server, or a receiver in tests).
    public var telegramAPIBase: String
    public var language: Language
    /// Send a message after each successful backup too, not only after failures.
    public var onSuccess: Bool
    /// Read-only: whether a bot token is stored or given by the environment.
    public var telegramBotTokenSet: Bool

    public init(
        telegramChatID: String? = nil, telegramAPIBase: String = AlertSettings.defaultTelegramAPIBase,
        language: Language = .en, onSuccess: Bool = false, telegramBotTokenSet: Bool = false
    ) {
        self.telegramChatID = telegramChatID
        self.telegramAPIBase = telegramAPIBase
        self.language = language
        self.onSuccess = onSuccess
        self.telegramBotTokenSet = telegramBotTokenSet
    }

    /// Every field a client sets, as JSON paths below `alerts.` (``BackupSettings/fieldNames``).
    static let fieldNames = ["telegram_bot_token", "telegram_chat_id", "telegram_api_base", "language", "on_success"]

    /// The fields only the server sets, below `alerts.`.
    static let readOnlyFieldNames = ["telegram_bot_token_set"]

    /// As the catalog keeps them: without the token's state, which is read from its file and
    /// the environment.
    var stored: AlertSettings {
        var settings = self
        settings.telegramBotTokenSet = false
        return settings
    }
}
