import Foundation
import Logging

/// Telegram's Bot API: `POST <base>/bot<token>/sendMessage`. The URL holds the token, so the
/// delivery carries it as the secret to strip from error texts; only the host is ever logged.
extension AlertNotifier {
    /// `sendMessage` to the configured chat; nil without a chat id or a token (a token file
    /// that cannot be read is logged, without its content).
    func telegramDelivery(
        _ event: AlertEvent, _ info: BackupInfo?, message: String?, host: String, settings: AlertSettings
    ) -> Delivery? {
        guard let chatID = settings.telegramChatID, let telegramToken else { return nil }
        let token: SecretText
        do throws(BackupError) {
            guard let stored = try telegramToken.read() else { return nil }
            token = stored
        } catch {
            logger.error(
                "telegram alert not sent: the bot token cannot be read", metadata: ["error": "\(error.message)"])
            return nil
        }
        let text = event.text(backup: info, error: message, host: host, language: settings.language)
        guard let url = URL(string: "\(settings.telegramAPIBase)/bot\(token.revealed)/sendMessage"),
            let body = try? JSONEncoder().encode(TelegramMessage(chatID: chatID, text: text))
        else { return nil }
        let transport = self.transport
        return Delivery(channel: "telegram", url: url, send: { try await transport(url, body) }, secret: token.revealed)
    }

    /// The body of Bot API's `sendMessage`: plain text, no `parse_mode`.
    struct TelegramMessage: Codable, Equatable {
        let chatID: String
        let text: String

        enum CodingKeys: String, CodingKey {
            case chatID = "chat_id"
            case text
        }
    }
}
