/// How an S3 request that failed transiently (5xx, 429, 408, a timeout, a refused or dropped
/// connection) is tried again: exponential back-off from ``baseDelay``, capped at ``maxDelay``,
/// with jitter. Other 4xx answers are never retried: they mean the same on the next try.
public struct S3RetryPolicy: Sendable {
    /// Tries in all, the first included (1: no retry).
    public var attempts: Int
    /// The pause after the first failed try; it doubles after each further one.
    public var baseDelay: Duration
    /// No pause is longer than this.
    public var maxDelay: Duration
    /// The share of each pause that is random (0: none, 1: "full jitter", anywhere from 0 to
    /// the pause), so many clients that failed together do not retry together.
    public var jitter: Double
    /// Waits for a pause; tests inject one that records the pause and returns at once.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        attempts: Int, baseDelay: Duration, maxDelay: Duration, jitter: Double = 1,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = min(max(jitter, 0), 1)
        self.sleep = sleep
    }

    /// Four tries, pausing about 0.25 s, 0.5 s and 1 s (at most 10 s).
    public static let standard = S3RetryPolicy(attempts: 4, baseDelay: .milliseconds(250), maxDelay: .seconds(10))

    /// One try: for a check that should answer at once (the connection test).
    public static let none = S3RetryPolicy(attempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// The pause after failed try number `attempt` (1-based); `random` is uniform in 0..<1.
    func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        var delay = baseDelay * (1 << exponent)
        if delay > maxDelay { delay = maxDelay }
        return delay * (1 - jitter) + delay * (jitter * random)
    }
}

/// How long an S3 request may wait.
public struct S3Timeouts: Sendable, Equatable {
    /// To open the connection (TCP and TLS).
    public var connect: Duration
    /// Between two reads of the answer: a server that stalls longer than this has timed out,
    /// however long a large transfer takes in all.
    public var idle: Duration

    public init(connect: Duration, idle: Duration) {
        self.connect = connect
        self.idle = idle
    }

    /// 10 s to connect, 60 s of silence at most.
    public static let standard = S3Timeouts(connect: .seconds(10), idle: .seconds(60))
}
