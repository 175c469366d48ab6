import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Heartbeat pings and Telegram messages from the real server and CLI to a receiver on loopback", .serialized)
struct AlertsLiveTests {
    static let botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
    static let chatID = "-1001234567890"

    /// A loopback stand-in for healthchecks.io (`GET /hb/<check>[/fail]`) and the Bot API
    /// (`POST /tg/bot<token>/sendMessage`): it keeps every request it gets.
    final class Receiver: Sendable {
        struct Hit: Sendable {
            let method: String
            let path: String
            let body: Data
        }

        final class Recorder: Sendable {
            let hits = Mutex<[Hit]>([])
        }

        private static let threads = BlockingThreads(count: 2, name: "alert-receiver")
        private let recorder = Recorder()
        let port: Int
        private let task: Task<Void, any Error>

        init() throws {
            port = try LiveServer.freePort()
            let router = Router()
            let recorder = self.recorder
            @Sendable func record(_ request: Request) async throws -> Response {
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                recorder.hits.withLock {
                    $0.append(
                        Hit(method: request.method.rawValue, path: request.uri.path, body: Data(body.readableBytesView))
                    )
                }
                return Response(status: .ok)
            }
            router.get("hb/:check") { request, _ in try await record(request) }
            router.get("hb/:check/fail") { request, _ in try await record(request) }
            router.post("tg/:bot/sendMessage") { request, _ in try await record(request) }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
            // On threads of its own: in a full make test the cooperative pool's two threads are
            // queued with hundreds of tests, and a receiver served there did not even bind its
            // port within a minute.
            task = Task(executorPreference: Self.threads) { try await app.run() }
        }

        var base: String { "http://127.0.0.1:\(port)" }

        /// Waits until the receiver accepts connections: its server starts in a task of its own,
        /// and a busy machine may not have bound the port by the first delivery.
        func ready() async throws {
            let listening = await eventually { acceptsConnections(port: port) }
            try #require(listening, "the receiver on port \(port) never accepted a connection")
        }

        func stop() { task.cancel() }

        /// Every request received so far.
        func all() -> [Hit] { recorder.hits.withLock { $0 } }

        /// Waits until a request to `path` arrives; the requests so far.
        func waitFor(_ path: String, timeout: TimeInterval = 60) async -> [Hit] {
            _ = await eventually(timeout: timeout) { all().contains { $0.path == path } }
            return all()
        }

        /// The `sendMessage` bodies received so far, decoded.
        func messages() throws -> [[String: String]] {
            try all().filter { $0.path.hasSuffix("/sendMessage") }.map {
                try JSONDecoder().decode([String: String].self, from: $0.body)
            }
        }
    }

    /// Every byte of the catalog's files (the database, its WAL and shared memory).
    static func catalogBytes(_ directory: TemporaryDirectory) throws -> Data {
        let catalog = directory.dataDirectory.catalog
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            let url = URL(fileURLWithPath: catalog.path + suffix)
            if FileManager.default.fileExists(atPath: url.path) { bytes += try Data(contentsOf: url) }
        }
        return bytes
    }

    @Test(
        "the server pings the heartbeat after a backup, <url>/fail and sendMessage after a failed one; the token never shows"
    )
    func serverPingsAndMessages() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        try await receiver.ready()
        let directory = TemporaryDirectory("live-alerts")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(
            dataDirectory: directory.path, extraArguments: ["--log-level", "trace"],
            environment: [TelegramToken.environmentVariable: ""])
        try await server.waitUntilReady()
        let recorded = RecordedRequests(server)

        let (put, status) = try await recorded.send(
            "PUT", "/api/settings/backup",
            """
            {"heartbeat_url": "\(receiver.base)/hb/check-1",
             "alerts": {"telegram_bot_token": "\(Self.botToken)", "telegram_chat_id": "\(Self.chatID)",
                        "telegram_api_base": "\(receiver.base)/tg", "language": "ru"}}
            """)
        #expect(status == 200, "\(put)")
        let file = directory.dataDirectory.telegramToken
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.botToken + "\n")
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
        let (shown, _) = try await recorded.send("GET", "/api/settings/backup")
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(shown.utf8))
        #expect(settings.alerts.telegramBotTokenSet)
        #expect(settings.alerts.telegramChatID == Self.chatID && settings.alerts.language == .ru)
        #expect(settings.heartbeatURL == "\(receiver.base)/hb/check-1")

        // A successful backup: the heartbeat, no message (on_success is off).
        let (created, createdStatus) = try await recorded.send("POST", "/api/backups")
        #expect(createdStatus == 202, "\(created)")
        var hits = await receiver.waitFor("/hb/check-1")
        #expect(hits.map(\.path) == ["/hb/check-1"])
        #expect(hits.first?.method == "GET")

        // A database that is not SQLite any more: the backup fails.
        try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
        var failedID: String?
        for _ in 0..<100 where failedID == nil {
            let (body, code) = try await recorded.send("POST", "/api/backups")
            if code == 202 {
                failedID = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(body.utf8)).id
            } else {
                try await Task.sleep(for: .milliseconds(50))  // the first backup's upload or prune still holds the job
            }
        }
        let failed = try #require(failedID)
        hits = await receiver.waitFor("/hb/check-1/fail")
        _ = await eventually { (try? receiver.messages().count) == 1 }
        #expect(hits.contains { $0.path == "/hb/check-1/fail" && $0.method == "GET" })
        let sent = try receiver.all().filter { $0.path.hasSuffix("/sendMessage") }
        #expect(sent.map(\.path) == ["/tg/bot\(Self.botToken)/sendMessage"])
        let message = try #require(try receiver.messages().first)
        #expect(message["chat_id"] == Self.chatID)
        #expect(message["text"]?.contains("Резервное копирование не удалось") == true, "\(message)")
        #expect(message["text"]?.contains(failed) == true, "\(message)")
        #expect(message["parse_mode"] == nil)

        let catalog = try Self.catalogBytes(directory)
        #expect(catalog.range(of: Data(Self.botToken.utf8)) == nil, "the catalog holds the token")
        #expect(catalog.range(of: Data("telegram_chat_id".utf8)) != nil, "the alerts are in the catalog")
        let (log, leaks) = recorded.stop(searchingFor: [Self.botToken, String(Self.botToken.split(separator: ":")[1])])
        #expect(leaks.isEmpty, "\(leaks) \(log.suffix(3000))")
        #expect(log.contains("trace") || log.contains("debug"), "the server logged at trace level")
    }

    @Test("backup create pings the heartbeat, and <url>/fail when it fails; on_success sends the success message")
    func cliPingsAndMessages() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        try await receiver.ready()
        let backup = try ChildProcess(product: "backup")
        let directory = TemporaryDirectory("cli-alerts")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let environment = [TelegramToken.environmentVariable: ""]
        let set = try await offPool {
            try backup.run(
                [
                    "settings", "set", "heartbeat_url=\(receiver.base)/hb/cli", "alerts.telegram_bot_token=-",
                    "alerts.telegram_chat_id=@backup_team", "alerts.telegram_api_base=\(receiver.base)/tg",
                    "alerts.on_success=true", "--data-dir", directory.path,
                ], environment: environment, input: Self.botToken + "\n")
        }
        #expect(set.status == 0, "\(set.stderr)")
        let shown = try await offPool {
            try backup.run(["settings", "show", "--data-dir", directory.path], environment: environment)
        }
        #expect(shown.stdout.contains("alerts.telegram_bot_token_set") && shown.stdout.contains("true"))
        #expect(shown.stdout.contains("@backup_team") && shown.stdout.contains("\(receiver.base)/hb/cli"))
        let shownJSON = try await offPool {
            try backup.run(["settings", "show", "--json", "--data-dir", directory.path], environment: environment)
        }
        let settings = try JSONDecoder.backupManager().decode(BackupSettings.self, from: Data(shownJSON.stdout.utf8))
        #expect(settings.alerts.telegramBotTokenSet && settings.alerts.onSuccess)

        let created = try await offPool {
            try backup.run(["create", "--json", "--data-dir", directory.path], environment: environment)
        }
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        // The command waits for its deliveries: they have arrived when it exits.
        let hits = receiver.all()
        #expect(hits.contains { $0.path == "/hb/cli" && $0.method == "GET" }, "\(hits.map(\.path))")
        let success = try #require(try receiver.messages().first)
        #expect(success["chat_id"] == "@backup_team")
        #expect(success["text"]?.contains("Backup completed") == true && success["text"]?.contains(info.id) == true)

        try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
        let failed = try await offPool {
            try backup.run(["create", "--data-dir", directory.path], environment: environment)
        }
        #expect(failed.status != 0)
        let after = receiver.all()
        #expect(after.contains { $0.path == "/hb/cli/fail" && $0.method == "GET" }, "\(after.map(\.path))")
        #expect(try receiver.messages().contains { $0["text"]?.contains("Backup failed") == true })
        for result in [set, shown, shownJSON, created, failed] {
            #expect(!result.stdout.contains(Self.botToken) && !result.stderr.contains(Self.botToken))
        }
    }
}
