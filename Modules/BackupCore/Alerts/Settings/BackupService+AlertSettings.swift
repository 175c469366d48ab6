import Foundation

extension BackupService {
    /// The Telegram bot token of this data directory (stored, or from the environment).
    public var telegramToken: TelegramToken { TelegramToken(dataDirectory: dataDirectory) }

    /// `alerts` saying whether a bot token is set; with `change`, as it will be once that change
    /// of the stored token is applied (the environment's token still counts after a removal).
    func withTokenState(_ alerts: AlertSettings, tokenChange change: StoredSecret.Change?) -> AlertSettings {
        var alerts = alerts
        let token = telegramToken
        alerts.telegramBotTokenSet =
            switch change {
            case .set: true
            case .remove: token.fromEnvironment != nil
            case nil: token.isSet
            }
        return alerts
    }

    /// The problem of a token about to be stored, keyed by its JSON path; empty when none.
    static func tokenProblems(_ change: StoredSecret.Change?) -> [String: String] {
        guard case .set(let token) = change, let problem = TelegramToken.problem(with: token) else { return [:] }
        return ["alerts.telegram_bot_token": problem]
    }
}
