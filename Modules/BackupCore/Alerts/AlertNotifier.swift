import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends a webhook alert (a JSON POST to the settings' `webhook_url`) when a backup fails
/// (`backup.failed`) or its off-site upload fails (`upload.failed`).
///
/// Delivery runs in its own task with retries and back-off, so it never holds up a job; each
/// failed attempt is logged with its reason.
public struct AlertNotifier: Sendable {
    /// The waits before the second, third… attempts, for a server.
    public static let serverBackoff: [TimeInterval] = [1, 5, 30, 120]
    /// A short schedule for a command that waits for delivery before it exits.
    public static let commandBackoff: [TimeInterval] = [1]

    /// Posts `body` to `url` and returns the HTTP status; injected so tests can use any receiver.
    public typealias Transport = @Sendable (_ url: URL, _ body: Data) async throws -> Int

    private let catalog: Catalog
    private let clock: any WallClock
    private let logger: Logger
    private let transport: Transport
    private let backoff: [TimeInterval]

    public init(
        catalog: Catalog, clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "alerts"),
        backoff: [TimeInterval] = AlertNotifier.serverBackoff,
        transport: @escaping Transport = AlertNotifier.httpTransport
    ) {
        self.catalog = catalog
        self.backoff = backoff
        self.clock = clock
        self.logger = logger
        self.transport = transport
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
    /// Returns the delivery task, which callers may await (the CLI does, briefly) or ignore.
    @discardableResult
    public func backupFailed(_ info: BackupInfo?, message: String) -> Task<Bool, Never>? {
        alert(event: "backup.failed", info, message: message)
    }

    /// Alerts about a backup whose off-site upload failed (the local backup is intact; the upload
    /// is retried). Returns the delivery task, as ``backupFailed(_:message:)`` does.
    @discardableResult
    public func uploadFailed(_ info: BackupInfo?, message: String) -> Task<Bool, Never>? {
        alert(event: "upload.failed", info, message: message)
    }

    private func alert(event: String, _ info: BackupInfo?, message: String) -> Task<Bool, Never>? {
        guard let url = (try? catalog.settings())?.webhookURL.flatMap(URL.init(string:)) else { return nil }
        let payload = Payload(
            event: event, message: message, backup: info, host: ProcessInfo.processInfo.hostName,
            sentAt: clock.now())
        guard let body = try? JSONEncoder.backupManager().encode(payload) else { return nil }
        return Task { await deliver(body, to: url) }
    }

    /// Tries each attempt in turn; true once the receiver answers 2xx. Each attempt first
    /// resolves the host: a link-local or metadata address (``WebhookTarget``) ends the delivery.
    /// Only the host is logged, never the whole URL.
    func deliver(_ body: Data, to url: URL) async -> Bool {
        let host = url.host ?? "?"
        for attempt in 0...backoff.count {
            if attempt > 0 {
                do { try await clock.sleep(until: clock.now().addingTimeInterval(backoff[attempt - 1])) } catch {
                    return false
                }
            }
            if let refusal = WebhookTarget.refusal(for: url) {
                logger.error("webhook refused: the URL \(refusal)", metadata: ["host": "\(host)"])
                return false
            }
            do {
                let status = try await transport(url, body)
                if (200..<300).contains(status) { return true }
                logger.warning(
                    "webhook answered \(status)", metadata: ["host": "\(host)", "attempt": "\(attempt + 1)"])
            } catch {
                logger.warning(
                    "webhook failed", metadata: ["host": "\(host)", "attempt": "\(attempt + 1)", "error": "\(error)"])
            }
        }
        logger.error(
            "webhook alert not delivered after \(backoff.count + 1) attempts", metadata: ["host": "\(host)"])
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

    /// One client for the process, never shut down (it lives as long as the process).
    private static let webhookClient = HTTPClient(
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10))))
}
