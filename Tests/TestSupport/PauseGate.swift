import Dispatch
import Synchronization

/// Holds a job at its first progress report until the test has done what it needs (cancel it,
/// say), so the test does not race the job to its end.
public final class PauseGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let paused = AsyncStream<Void>.makeStream()
    private let fired = Mutex(false)

    public init() {}

    /// Called from the job's progress callback (a database thread, never the test's task):
    /// the first call blocks until ``release()``.
    public func pauseOnFirstCall() {
        let first = fired.withLock { fired in
            defer { fired = true }
            return !fired
        }
        guard first else { return }
        paused.continuation.yield()
        semaphore.wait()
    }

    /// Returns once the job is held at its first progress report.
    public func waitUntilPaused() async {
        for await _ in paused.stream { return }
    }

    public func release() {
        semaphore.signal()
    }
}
