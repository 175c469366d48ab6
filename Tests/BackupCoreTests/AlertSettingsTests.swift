import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Heartbeat and Telegram settings: the migration, the rules, the write-only bot token, the messages")
struct AlertSettingsTests {
    static let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
    static let noEnvironment: [String: String] = [:]

    @Test("a catalog made before v14 reads no heartbeat and no chat, its other settings unchanged")
    func migrationDefaults() throws {
        let directory = TemporaryDirectory("alerts-migration")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v13_directories_and_scopes")
        try queue.write { db in
            try db.execute(sql: "UPDATE backup_settings SET interval_hours = 6, webhook_url = 'http://127.0.0.1:9/h'")
        }
        try queue.close()

        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let settings = try catalog.settings()
        #expect(settings.intervalHours == 6 && settings.webhookURL == "http://127.0.0.1:9/h")
        #expect(settings.heartbeatURL == nil)
        #expect(settings.alerts == AlertSettings())
        #expect(settings.alerts.telegramAPIBase == "https://api.telegram.org" && settings.alerts.language == .en)
        #expect(!settings.alerts.onSuccess)
    }

    @Test("bad heartbeat URLs, chat ids, API bases and languages are named by their JSON path")
    func rulesJudged() throws {
        var settings = BackupSettings()
        settings.heartbeatURL = "http://169.254.169.254/latest"
        settings.alerts = AlertSettings(telegramChatID: "general chat", telegramAPIBase: "http://bot.example.com")
        #expect(
            Set(settings.problems.keys) == ["heartbeat_url", "alerts.telegram_chat_id", "alerts.telegram_api_base"])
        for chat in ["-1001234567890", "42", "@backup_team"] {
            #expect(AlertSettings.isChatID(chat), "\(chat)")
        }
        for chat in ["@ab", "12a", "-", "@1abc", "@has space", String(repeating: "1", count: 21)] {
            #expect(!AlertSettings.isChatID(chat), "\(chat)")
        }
        for base in ["https://api.telegram.org", "http://127.0.0.1:8081", "http://localhost:8081/", "http://[::1]:81"] {
            #expect(AlertSettings.apiBaseProblem(base) == nil, "\(base)")
        }
        for base in [
            "http://api.telegram.org", "https://api.telegram.org/?x=1", "ftp://api.telegram.org",
            "https://user:pw@api.telegram.org", "http://169.254.169.254",
        ] {
            #expect(AlertSettings.apiBaseProblem(base) != nil, "\(base)")
        }
        let language = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["alerts.language=de"]).applied(to: BackupSettings())
        }
        #expect(language == .invalidInput(fields: ["alerts.language": "must be en or ru"]))
        var valid = BackupSettings()
        valid.alerts = AlertSettings(telegramChatID: "", telegramAPIBase: "http://127.0.0.1:8081/")
        valid.heartbeatURL = ""
        let normalized = try valid.validated()
        #expect(normalized.alerts.telegramChatID == nil && normalized.alerts.telegramAPIBase == "http://127.0.0.1:8081")
        #expect(normalized.heartbeatURL == nil)
    }

    @Test("KEY=VALUE words and a PUT's JSON give the same change; - reads the token; the state is read-only")
    func patchParsed() throws {
        var read = 0
        let words = try SettingsPatch(
            assignments: [
                "heartbeat_url=https://hc-ping.com/abc", "alerts.telegram_bot_token=-",
                "alerts.telegram_chat_id=-100123", "alerts.language=ru", "alerts.on_success=yes",
            ],
            readSecret: {
                read += 1
                return Self.token
            })
        #expect(read == 1)
        let json = try JSONDecoder().decode(
            SettingsPatch.self,
            from: Data(
                """
                {"heartbeat_url": "https://hc-ping.com/abc",
                 "alerts": {"telegram_bot_token": "\(Self.token)", "telegram_chat_id": "-100123", "language": "ru",
                            "on_success": true, "telegram_bot_token_set": false}}
                """.utf8))
        #expect(try words.applied(to: BackupSettings()) == (try json.applied(to: BackupSettings())))
        #expect(words.tokenChange == .set(SecretText(Self.token)) && json.tokenChange == words.tokenChange)
        #expect(words.secretChange == nil)
        let applied = try words.applied(to: BackupSettings())
        #expect(applied.heartbeatURL == "https://hc-ping.com/abc" && applied.alerts.onSuccess)
        #expect(applied.alerts.language == .ru && applied.alerts.telegramChatID == "-100123")
        #expect(try SettingsPatch(assignments: ["alerts.telegram_bot_token="]).tokenChange == .remove)
        let removeChat = try JSONDecoder().decode(
            SettingsPatch.self, from: Data(#"{"alerts": {"telegram_chat_id": null}}"#.utf8))
        var withChat = BackupSettings()
        withChat.alerts.telegramChatID = "42"
        #expect(try removeChat.applied(to: withChat).alerts.telegramChatID == nil)
        let readOnly = #expect(throws: BackupError.self) {
            _ = try JSONDecoder().decode(
                SettingsPatch.self, from: Data(#"{"alerts": {"telegram_bot_token_set": true}}"#.utf8)
            ).applied(to: BackupSettings())
        }
        #expect(readOnly == .invalidInput(fields: ["alerts.telegram_bot_token_set": "read-only field"]))
    }

    @Test(
        "the token is stored 0600 outside the catalog, said only as telegram_bot_token_set, refused without repeating it"
    )
    func tokenWriteOnly() throws {
        let directory = TemporaryDirectory("alerts-token")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let bad = "not a token \(Self.token)"
        let refused = #expect(throws: BackupError.self) {
            try service.saveSettings(BackupSettings(), tokenChange: .set(SecretText(bad)))
        }
        guard case .invalidInput(let fields) = refused else {
            Issue.record("not a field error: \(String(describing: refused))")
            return
        }
        #expect(fields.keys.sorted() == ["alerts.telegram_bot_token"])
        #expect(!(fields.values.joined().contains(Self.token)))
        #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.telegramToken.path))

        let change = try service.saveSettings(BackupSettings(), tokenChange: .set(SecretText(Self.token)))
        #expect(change.settings.alerts.telegramBotTokenSet)
        let file = directory.dataDirectory.telegramToken
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.token + "\n")
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
        #expect(try service.settings().alerts.telegramBotTokenSet)
        #expect(try service.catalog.settings().alerts.telegramBotTokenSet == false, "the catalog keeps no state")
        let encoded = String(decoding: try JSONEncoder.backupManager().encode(try service.settings()), as: UTF8.self)
        #expect(!encoded.contains(Self.token) && encoded.contains("\"telegram_bot_token_set\":true"))
        #expect(
            try TelegramToken(dataDirectory: directory.dataDirectory, environment: [:]).read()?.revealed == Self.token)
        #expect(
            try TelegramToken(
                dataDirectory: directory.dataDirectory, environment: [TelegramToken.environmentVariable: "1:env"]
            ).read()?.revealed == "1:env")

        try service.saveSettings(try service.settings(), tokenChange: .remove)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(try !TelegramToken(dataDirectory: directory.dataDirectory, environment: [:]).isSet)
    }

    @Test("the heartbeat's failure URL appends /fail to the path and keeps the query")
    func heartbeatURLs() {
        #expect(Heartbeat.url("https://hc-ping.com/abc", succeeded: true)?.absoluteString == "https://hc-ping.com/abc")
        #expect(
            Heartbeat.url("https://hc-ping.com/abc", succeeded: false)?.absoluteString == "https://hc-ping.com/abc/fail"
        )
        #expect(
            Heartbeat.url("https://hc-ping.com/abc/", succeeded: false)?.absoluteString
                == "https://hc-ping.com/abc/fail")
        #expect(
            Heartbeat.url("https://kuma.example.com/api/push/tok?status=up", succeeded: false)?.absoluteString
                == "https://kuma.example.com/api/push/tok/fail?status=up")
    }

    @Test("messages say what happened, on which host, which backup and the error, in English or Russian")
    func messageTexts() {
        var info = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil).info
        info.sizeBytes = 3 << 20
        let failed = AlertEvent.backupFailed.text(backup: info, error: "disk full", host: "db1", language: .en)
        #expect(failed == "❌ Backup failed (db1)\nBackup: \(info.id) (database, manual)\nError: disk full")
        let upload = AlertEvent.uploadFailed.text(backup: info, error: "503", host: "db1", language: .ru)
        #expect(upload.hasPrefix("⚠️ Не удалось выгрузить копию во внешнее хранилище (db1)"))
        #expect(upload.contains("Ошибка: 503") && upload.contains("повторена"))
        let success = AlertEvent.backupSucceeded.text(backup: info, error: nil, host: "db1", language: .ru)
        #expect(success == "✅ Резервная копия создана (db1)\nКопия: \(info.id) (database, manual, 3.00 MiB)")
        let noStart = AlertEvent.backupFailed.text(
            backup: nil, error: String(repeating: "x", count: 5000), host: "db1", language: .en)
        #expect(noStart.count < 1100 && noStart.hasSuffix("…"))
    }
}
