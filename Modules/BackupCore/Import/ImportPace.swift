import Foundation

/// How slowly an upload may arrive before it is cut off, so that a client trickling a byte now and
/// then cannot hold a connection and a partial file for hours: no gap between two pieces longer
/// than ``idleTimeout``, and, once ``gracePeriod`` has passed, an average since the start of at
/// least ``minimumRate`` bytes per second.
public struct ImportPace: Sendable, Equatable {
    /// The longest wait for the next piece of the body.
    public var idleTimeout: TimeInterval
    /// The lowest average rate in bytes per second, enforced after ``gracePeriod``.
    public var minimumRate: Int64
    /// How long an upload may take before its average rate counts.
    public var gracePeriod: TimeInterval

    /// 30 s without a byte, or under 16 KiB/s on average after the first minute.
    public static let standard = ImportPace(idleTimeout: 30, minimumRate: 16 * 1024, gracePeriod: 60)

    public init(idleTimeout: TimeInterval, minimumRate: Int64, gracePeriod: TimeInterval) {
        self.idleTimeout = idleTimeout
        self.minimumRate = minimumRate
        self.gracePeriod = gracePeriod
    }

    /// Why an upload that started at `started` and received `bytes`, the last of them at
    /// `lastArrival`, is too slow at `now`; nil while it keeps the pace.
    public func violation(started: Date, lastArrival: Date, bytes: Int64, now: Date) -> String? {
        let idle = now.timeIntervalSince(lastArrival)
        if idle >= idleTimeout {
            return "nothing of the upload arrived for \(Int(idle.rounded())) s (the limit is \(Int(idleTimeout)) s)"
        }
        if now >= rateDeadline(started: started, bytes: bytes) {
            let elapsed = max(now.timeIntervalSince(started), 0.001)
            return "the upload averaged \(ByteCount.format(Int64(Double(bytes) / elapsed)))/s, "
                + "under the \(ByteCount.format(minimumRate))/s required after \(Int(gracePeriod)) s"
        }
        return nil
    }

    /// When to look again if nothing more arrives: the idle limit or the moment the average
    /// falls under the minimum rate, whichever comes first.
    public func nextCheck(started: Date, lastArrival: Date, bytes: Int64) -> Date {
        min(lastArrival.addingTimeInterval(idleTimeout), rateDeadline(started: started, bytes: bytes))
    }

    /// The moment `bytes` received since `started` stop averaging ``minimumRate``.
    private func rateDeadline(started: Date, bytes: Int64) -> Date {
        guard minimumRate > 0 else { return .distantFuture }
        return started.addingTimeInterval(max(gracePeriod, Double(bytes) / Double(minimumRate)))
    }
}
