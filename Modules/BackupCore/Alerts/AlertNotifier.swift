import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Tells the operator's tools how backups end: a webhook alert (a JSON POST to the settings'
/// `webhook_url`) when a backup fails (`backup.failed`) or its off-site upload fails
/// (`upload.failed`); the heartbeat (a GET of `heartbeat_url` after a successful backup, of
/// `<heartbeat_url>/fail` after a failed one); a Telegram message (`sendMessage` to
/// `alerts.telegram_chat_id`) on failures, and on successes when `alerts.on_success` is on.
///
/// Each delivery runs in its own task with retries and back-off, so it never holds up a job; each
/// failed attempt is logged with its reason and the host alone (the Telegram URL holds the bot
/// token, which never reaches a log or an error).
public struct AlertNotifier: Sendable {
    /// The waits before the second, third… attempts, for a server.
    public static let serverBackoff: [TimeInterval] = [1, 5, 30, 120]
    /// A short schedule for a command that waits for delivery before it exits.
    public static let commandBackoff: [TimeInterval] = [1]

    /// Posts `body` (JSON) to `url` and returns the HTTP status; injected so tests can use any receiver.
    public typealias Transport = @Sendable (_ url: URL, _ body: Data) async throws -> Int
    /// GETs `url` (the heartbeat) and returns the HTTP status.
    public typealias Ping = @Sendable (_ url: URL) async throws -> Int

    private let catalog: Catalog
    let telegramToken: TelegramToken?
    private let clock: any WallClock
    let logger: Logger
    let transport: Transport
    private let ping: Ping
    private let backoff: [TimeInterval]

    /// - Parameter telegramToken: where the bot token is read at each message; nil: no Telegram
    ///   messages (the webhook and the heartbeat only).
    public init(
        catalog: Catalog, telegramToken: TelegramToken? = nil, clock: any WallClock = SystemClock(),
        logger: Logger = Logger(label: "alerts"), backoff: [TimeInterval] = AlertNotifier.serverBackoff,
        transport: @escaping Transport = AlertNotifier.httpTransport, ping: @escaping Ping = AlertNotifier.httpPing
    ) {
        self.catalog = catalog
        self.telegramToken = telegramToken
        self.backoff = backoff
        self.clock = clock
        self.logger = logger
        self.ping = ping
        self.transport = transport
    }

    /// The service's catalog and Telegram bot token.
    public init(
        service: BackupService, clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "alerts"),
        backoff: [TimeInterval] = AlertNotifier.serverBackoff
    ) {
        self.init(
            catalog: service.catalog, telegramToken: service.telegramToken, clock: clock, logger: logger,
            backoff: backoff)
    }

    /// The alert body.
    public struct Payload: Codable, Sendable, Equatable {
        public var event: String
        public var message: String
        public var backup: BackupInfo?
        public var host: String
        public var sentAt: Date

        enum CodingKeys: String, CodingKey {
            case event, message, backup, host
            case sentAt = "sent_at"
        }
    }

    /// Alerts about a failed backup (or one that could not start) in the background.
    /// Returns the delivery task (true when every delivery succeeded), which callers may await
    /// (the CLI does, briefly) or ignore; nil when nothing is configured.
    @discardableResult
    public func backupFailed(_ info: BackupInfo?, message: String) -> Task<Bool, Never>? {
        notify(.backupFailed, info, message: message)
    }

    /// Alerts about a backup whose off-site upload failed (the local backup is intact; the upload
    /// is retried). Returns the delivery task, as ``backupFailed(_:message:)`` does.
    @discardableResult
    public func uploadFailed(_ info: BackupInfo?, message: String) -> Task<Bool, Never>? {
        notify(.uploadFailed, info, message: message)
    }

    /// Pings the heartbeat after a successful backup, and sends a chat message when
    /// `alerts.on_success` is on. Returns the delivery task, as ``backupFailed(_:message:)`` does.
    @discardableResult
    public func backupSucceeded(_ info: BackupInfo) -> Task<Bool, Never>? {
        notify(.backupSucceeded, info, message: nil)
    }

    /// One delivery: where, how, and the secret its errors must not carry.
    struct Delivery: Sendable {
        /// `webhook`, `heartbeat` or `telegram`: how the log names it.
        let channel: String
        let url: URL
        let send: @Sendable () async throws -> Int
        /// Removed from every error text before it is logged (the bot token).
        var secret: String? = nil
    }

    private func notify(_ event: AlertEvent, _ info: BackupInfo?, message: String?) -> Task<Bool, Never>? {
        guard let settings = try? catalog.settings() else { return nil }
        let host = ProcessInfo.processInfo.hostName
        var deliveries: [Delivery] = []
        if event != .backupSucceeded, let url = settings.webhookURL.flatMap(URL.init(string:)) {
            let payload = Payload(
                event: event.rawValue, message: message ?? "", backup: info, host: host, sentAt: clock.now())
            if let body = try? JSONEncoder.backupManager().encode(payload) {
                let transport = self.transport
                deliveries.append(Delivery(channel: "webhook", url: url) { try await transport(url, body) })
            }
        }
        if event != .uploadFailed,
            let url = settings.heartbeatURL.flatMap({ Heartbeat.url($0, succeeded: event == .backupSucceeded) })
        {
            let ping = self.ping
            deliveries.append(Delivery(channel: "heartbeat", url: url) { try await ping(url) })
        }
        if event != .backupSucceeded || settings.alerts.onSuccess,
            let telegram = telegramDelivery(event, info, message: message, host: host, settings: settings.alerts)
        {
            deliveries.append(telegram)
        }
        guard !deliveries.isEmpty else { return nil }
        return Task {
            await withTaskGroup(of: Bool.self) { group in
                for delivery in deliveries { group.addTask { await deliver(delivery) } }
                return await group.reduce(true) { $0 && $1 }
            }
        }
    }

    /// Tries each attempt in turn; true once the receiver answers 2xx. Each attempt first
    /// resolves the host: a link-local or metadata address (``WebhookTarget``) ends the delivery.
    /// Only the host is logged, never the whole URL.
    func deliver(_ delivery: Delivery) async -> Bool {
        let (channel, url) = (delivery.channel, delivery.url)
        let host = url.host ?? "?"
        for attempt in 0...backoff.count {
            if attempt > 0 {
                do { try await clock.sleep(until: clock.now().addingTimeInterval(backoff[attempt - 1])) } catch {
                    return false
                }
            }
            if let refusal = WebhookTarget.refusal(for: url) {
                logger.error("\(channel) refused: the URL \(refusal)", metadata: ["host": "\(host)"])
                return false
            }
            do {
                let status = try await delivery.send()
                if (200..<300).contains(status) { return true }
                logger.warning(
                    "\(channel) answered \(status)", metadata: ["host": "\(host)", "attempt": "\(attempt + 1)"])
            } catch {
                var reason = "\(error)"
                if let secret = delivery.secret, !secret.isEmpty {
                    reason = reason.replacingOccurrences(of: secret, with: "<token>")
                }
                logger.warning(
                    "\(channel) failed",
                    metadata: ["host": "\(host)", "attempt": "\(attempt + 1)", "error": "\(reason)"])
            }
        }
        logger.error(
            "\(channel) alert not delivered after \(backoff.count + 1) attempts", metadata: ["host": "\(host)"])
        return false
    }

    /// POSTs with AsyncHTTPClient (the off-site copies' HTTP stack: no second one, such as
    /// URLSession's libcurl, is loaded). An attempt fails after 10 s without connecting or without
    /// a byte from the receiver (as URLSession's timeout did), and after 30 s in all. Redirects are
    /// not followed: a 3xx is a failed attempt (a redirect could lead anywhere, the metadata
    /// service included).
    public static let httpTransport: Transport = { url, body in
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "backup-manager/\(BackupManagerVersion.current)")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await webhookClient.execute(request, timeout: .seconds(30))
        _ = try? await response.body.collect(upTo: 64 << 10)
        return Int(response.status.code)
    }

    /// GETs with the same client and limits as ``httpTransport`` (the heartbeat: healthchecks.io
    /// and Uptime Kuma's push monitors both take a GET).
    public static let httpPing: Ping = { url in
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "backup-manager/\(BackupManagerVersion.current)")
        let response = try await webhookClient.execute(request, timeout: .seconds(30))
        _ = try? await response.body.collect(upTo: 64 << 10)
        return Int(response.status.code)
    }

    /// One client for the process, never shut down (it lives as long as the process).
    private static let webhookClient = HTTPClient(
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10))))
}
