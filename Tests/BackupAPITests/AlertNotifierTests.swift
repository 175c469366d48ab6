import BackupCore
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("AlertNotifier: which event reaches which channel, and the bot token kept out of every log line")
struct AlertNotifierTests {
    /// Keeps every line logged through it, metadata included.
    final class LogLines: Sendable {
        let lines = Mutex<[String]>([])

        struct Handler: LogHandler {
            let sink: LogLines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace

            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                let fields = (metadata.merging(event.metadata ?? [:]) { $1 }).map { "\($0)=\($1)" }.sorted()
                sink.lines.withLock { $0.append("\(event.level) \(event.message) \(fields.joined(separator: " "))") }
            }
        }

        var logger: Logger { Logger(label: "alerts") { _ in Handler(sink: self) } }
        var all: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    /// A data directory whose settings point the heartbeat and Telegram at `receiver`.
    static func configured(
        _ label: String, receiver: AlertsLiveTests.Receiver, onSuccess: Bool = false
    ) throws -> (TemporaryDirectory, BackupService) {
        let directory = TemporaryDirectory(label)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var settings = BackupSettings()
        settings.heartbeatURL = "\(receiver.base)/hb/check"
        settings.alerts = AlertSettings(
            telegramChatID: "42", telegramAPIBase: "\(receiver.base)/tg", language: .en, onSuccess: onSuccess)
        try service.saveSettings(settings, tokenChange: .set(SecretText(AlertsLiveTests.botToken)))
        return (directory, service)
    }

    @Test(
        "could not start (no backup): /fail and a message; a failed upload: a message and no ping; on_success off: the ping alone"
    )
    func channelsByEvent() async throws {
        let receiver = try AlertsLiveTests.Receiver()
        defer { receiver.stop() }
        try await receiver.ready()
        let (directory, service) = try Self.configured("notifier-events", receiver: receiver)
        _ = directory
        let notifier = AlertNotifier(
            catalog: service.catalog,
            telegramToken: TelegramToken(dataDirectory: service.dataDirectory, environment: [:]),
            backoff: [])

        #expect(await notifier.backupFailed(nil, message: "the automatic backup could not start: busy")?.value == true)
        #expect(
            receiver.all().map(\.path).sorted() == ["/hb/check/fail", "/tg/bot\(AlertsLiveTests.botToken)/sendMessage"])
        #expect(
            try receiver.messages().first?["text"]
                == "❌ Backup failed (\(ProcessInfo.processInfo.hostName))\nError: the automatic backup could not start: busy"
        )

        let record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
        #expect(await notifier.uploadFailed(record.info, message: "503 Slow Down")?.value == true)
        #expect(receiver.all().count == 3 && receiver.all().filter { $0.path.hasPrefix("/hb/") }.count == 1)
        #expect(try receiver.messages().last?["text"]?.contains("503 Slow Down") == true)

        #expect(await notifier.backupSucceeded(record.info)?.value == true)
        #expect(receiver.all().map(\.path).last == "/hb/check")
        #expect(try receiver.messages().count == 2, "on_success is off: no success message")
    }

    @Test("with neither a token nor a chat id, Telegram is left out; nothing configured: no delivery at all")
    func nothingConfigured() async throws {
        let directory = TemporaryDirectory("notifier-none")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let notifier = AlertNotifier(service: service, backoff: [])
        #expect(notifier.backupFailed(nil, message: "x") == nil)
        let record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
        #expect(notifier.backupSucceeded(record.info) == nil)
    }

    @Test("a transport error that quotes the URL is logged without the token, at trace level too")
    func tokenNotLogged() async throws {
        struct QuotingError: Error, CustomStringConvertible {
            let url: URL
            var description: String { "connection to \(url.absoluteString) reset" }
        }
        let receiver = try AlertsLiveTests.Receiver()
        defer { receiver.stop() }
        try await receiver.ready()
        let (directory, service) = try Self.configured("notifier-redact", receiver: receiver, onSuccess: true)
        _ = directory
        let log = LogLines()
        let notifier = AlertNotifier(
            catalog: service.catalog,
            telegramToken: TelegramToken(dataDirectory: service.dataDirectory, environment: [:]),
            logger: log.logger, backoff: [0], transport: { url, _ in throw QuotingError(url: url) })
        let record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
        #expect(await notifier.backupSucceeded(record.info)?.value == false)
        let lines = log.all
        #expect(lines.contains("telegram failed") && lines.contains("<token>"), "\(lines)")
        #expect(lines.contains("telegram alert not delivered after 2 attempts"), "\(lines)")
        #expect(!lines.contains(AlertsLiveTests.botToken) && !lines.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"))
        // (A receiver slow past the client's read timeout on a loaded machine may see a retry.)
        let pings = receiver.all().map(\.path)
        #expect(!pings.isEmpty && pings.allSatisfy { $0 == "/hb/check" }, "the heartbeat has its own transport")
    }
}
