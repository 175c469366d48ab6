import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Every open client connection of the server, so that a drain with a deadline can close the
/// ones still open when it passes (a client that stopped reading a download would otherwise
/// hold the shutdown, and with it a restart or a SIGTERM, for as long as it likes).
final class OpenConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    init() {}

    var count: Int { channels.withLock { $0.count } }

    /// A handler for a new connection's pipeline that registers it until it closes.
    func tracker() -> any RemovableChannelHandler {
        ConnectionTracker(connections: self)
    }

    fileprivate func insert(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        channels.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// Closes every open connection (responses being written are cut); returns how many.
    @discardableResult
    func closeAll() -> Int {
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.close(mode: .all, promise: nil) }
        return open.count
    }
}

/// Registers its channel with ``OpenConnections``; passes everything through.
private final class ConnectionTracker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    let connections: OpenConnections

    init(connections: OpenConnections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connections.insert(context.channel)
    }
}

/// Bounds the server's drain at shutdown (SIGTERM, or the restart after a restore): once a
/// graceful shutdown begins, the server stops accepting and lets running requests finish; after
/// `timeout` the connections still open are closed, so the process stops (or restarts) within
/// the deadline whatever its clients do.
///
/// It runs in the outermost service group, after the application: a group signals its services
/// in reverse order, so this one hears of the shutdown first, before the server starts waiting.
struct DrainDeadline: Service {
    let connections: OpenConnections
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        let (connections, timeout, logger) = (self.connections, self.timeout, self.logger)
        // Unstructured: this service must return now so that the group goes on to shut the
        // server down; the deadline outlives it (the process ends with the server anyway).
        Task {
            try? await Task.sleep(for: timeout)
            let closed = connections.closeAll()
            if closed > 0 {
                logger.notice(
                    "drain deadline passed: closed the connections still open",
                    metadata: ["connections": "\(closed)", "drain_timeout_s": "\(timeout.components.seconds)"])
            }
        }
    }
}
