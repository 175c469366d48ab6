import Foundation

/// The JSON form, `alerts` inside the settings; a missing field takes its default.
extension AlertSettings: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case telegramChatID = "telegram_chat_id"
        case telegramAPIBase = "telegram_api_base"
        case language
        case onSuccess = "on_success"
        case telegramBotTokenSet = "telegram_bot_token_set"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AlertSettings()
        self.init(
            telegramChatID: try container.decodeIfPresent(String.self, forKey: .telegramChatID),
            telegramAPIBase: try container.decodeIfPresent(String.self, forKey: .telegramAPIBase)
                ?? defaults.telegramAPIBase,
            language: try container.decodeIfPresent(Language.self, forKey: .language) ?? defaults.language,
            onSuccess: try container.decodeIfPresent(Bool.self, forKey: .onSuccess) ?? defaults.onSuccess,
            telegramBotTokenSet: try container.decodeIfPresent(Bool.self, forKey: .telegramBotTokenSet) ?? false)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(telegramChatID, forKey: .telegramChatID)
        try container.encode(telegramAPIBase, forKey: .telegramAPIBase)
        try container.encode(language, forKey: .language)
        try container.encode(onSuccess, forKey: .onSuccess)
        try container.encode(telegramBotTokenSet, forKey: .telegramBotTokenSet)
    }
}
