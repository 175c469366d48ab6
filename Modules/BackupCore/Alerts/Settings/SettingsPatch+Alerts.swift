import Foundation

extension SettingsPatch {
    /// A partial change of ``AlertSettings`` (`alerts` in a PUT, `alerts.KEY=VALUE` words).
    /// `telegram_bot_token` is taken here and only here: an empty or `null` one removes it; an
    /// empty or `null` chat id removes it too.
    public struct Alerts: Decodable, Sendable {
        var telegramChatID: String??
        var telegramAPIBase: String?
        /// As sent; ``applied(to:)`` refuses a name that is no ``AlertSettings/Language``.
        var language: String?
        var onSuccess: Bool?
        /// The change of the stored token, if any.
        var token: StoredSecret.Change?
        /// The read-only flag as sent back from a GET: accepted when it repeats the current state.
        var telegramBotTokenSet: Bool?

        init() {}

        enum CodingKeys: String, CodingKey {
            case telegramBotToken = "telegram_bot_token"
            case telegramChatID = "telegram_chat_id"
            case telegramAPIBase = "telegram_api_base"
            case language
            case onSuccess = "on_success"
            case telegramBotTokenSet = "telegram_bot_token_set"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.telegramChatID) {
                telegramChatID = .some(try container.decodeIfPresent(String.self, forKey: .telegramChatID))
            }
            telegramAPIBase = try container.decodeIfPresent(String.self, forKey: .telegramAPIBase)
            language = try container.decodeIfPresent(String.self, forKey: .language)
            onSuccess = try container.decodeIfPresent(Bool.self, forKey: .onSuccess)
            telegramBotTokenSet = try container.decodeIfPresent(Bool.self, forKey: .telegramBotTokenSet)
            if container.contains(.telegramBotToken) {
                let token = try container.decodeIfPresent(String.self, forKey: .telegramBotToken) ?? ""
                self.token = token.isEmpty ? .remove : .set(SecretText(token))
            }
        }

        /// Sets `field` (below `alerts.`) from its text; the problem when the text is not of
        /// the field's type.
        mutating func set(_ field: String, to value: String, flag: Bool?) -> String? {
            switch field {
            case "telegram_bot_token": token = value.isEmpty ? .remove : .set(SecretText(value))
            case "telegram_chat_id": telegramChatID = .some(value.isEmpty ? nil : value)
            case "telegram_api_base": telegramAPIBase = value.isEmpty ? AlertSettings.defaultTelegramAPIBase : value
            case "language": language = value
            case "on_success":
                guard let flag else { return "must be true or false" }
                onSuccess = flag
            default: return "is not a setting"
            }
            return nil
        }

        /// `settings` (with the token's state, ``BackupService/settings()``) with this patch's
        /// fields replaced; a read-only flag that differs from that state is refused.
        func applied(to settings: AlertSettings) throws(BackupError) -> AlertSettings {
            var problems: [String: String] = [:]
            if let telegramBotTokenSet, telegramBotTokenSet != settings.telegramBotTokenSet {
                problems["alerts.telegram_bot_token_set"] = "read-only field"
            }
            var settings = settings
            if let language {
                if let known = AlertSettings.Language(rawValue: language) {
                    settings.language = known
                } else {
                    problems["alerts.language"] = "must be en or ru"
                }
            }
            guard problems.isEmpty else { throw .invalidInput(fields: problems) }
            if let telegramChatID { settings.telegramChatID = telegramChatID }
            if let telegramAPIBase { settings.telegramAPIBase = telegramAPIBase }
            if let onSuccess { settings.onSuccess = onSuccess }
            return settings
        }
    }

    /// The change of the Telegram bot token this patch carries (`alerts.telegram_bot_token`), to
    /// pass to ``BackupService/saveSettings(_:secretChange:tokenChange:)``; nil leaves it as it is.
    public var tokenChange: StoredSecret.Change? { alerts?.token }
}
