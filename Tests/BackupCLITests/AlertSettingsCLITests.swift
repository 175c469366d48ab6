import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup settings set heartbeat_url / alerts.…, as a real process: the bot token write-only")
struct AlertSettingsCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"

    @Test("a bad token, chat id or language exits 2 naming each field, never repeating the token; nothing is stored")
    func usageErrors() async throws {
        let directory = TemporaryDirectory("cli-alerts-usage")
        let bad = try await backup.runOffPool(
            [
                "settings", "set", "alerts.telegram_bot_token=-", "alerts.telegram_chat_id=general chat",
                "alerts.language=de", "heartbeat_url=ftp://example.com", "--data-dir", directory.path,
            ], environment: [TelegramToken.environmentVariable: ""], input: "x \(Self.token)\n")
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("alerts.language: must be en or ru"), "\(bad.stderr)")
        let fields = try await backup.runOffPool(
            [
                "settings", "set", "alerts.telegram_bot_token=-", "alerts.telegram_chat_id=general chat",
                "heartbeat_url=ftp://example.com", "--data-dir", directory.path,
            ], environment: [TelegramToken.environmentVariable: ""], input: "x \(Self.token)\n")
        #expect(fields.status == 2, "\(fields.stderr)")
        for field in ["alerts.telegram_bot_token:", "alerts.telegram_chat_id:", "heartbeat_url:"] {
            #expect(fields.stderr.contains(field), "\(field) in \(fields.stderr)")
        }
        for result in [bad, fields] {
            #expect(!result.stdout.contains(Self.token) && !result.stderr.contains(Self.token))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.telegramToken.path))
    }

    @Test("BACKUP_TELEGRAM_BOT_TOKEN counts as a set token in settings show, without being printed")
    func tokenFromEnvironment() async throws {
        let directory = TemporaryDirectory("cli-alerts-env")
        let set = try await backup.runOffPool(
            ["settings", "set", "alerts.telegram_chat_id=42", "--data-dir", directory.path],
            environment: [TelegramToken.environmentVariable: ""])
        #expect(set.status == 0, "\(set.stderr)")
        let without = try await backup.runOffPool(
            ["settings", "show", "--json", "--data-dir", directory.path],
            environment: [TelegramToken.environmentVariable: ""])
        let shown = try await backup.runOffPool(
            ["settings", "show", "--json", "--data-dir", directory.path],
            environment: [TelegramToken.environmentVariable: Self.token])
        let before = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(without.stdout.utf8))
        let after = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(shown.stdout.utf8))
        #expect(!before.alerts.telegramBotTokenSet && after.alerts.telegramBotTokenSet)
        #expect(!shown.stdout.contains(Self.token) && !shown.stderr.contains(Self.token))
    }
}
