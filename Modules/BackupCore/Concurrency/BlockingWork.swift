/// Runs blocking work (file I/O, compression, hashing, `fsync`, synchronous SQLite) on threads
/// of its own, never on Swift's cooperative pool nor on an actor that requests await.
///
/// The cooperative pool has one thread per core (two on a small server): a backup compressing
/// on one of them, and a verification on the other, would leave no thread to answer a request.
/// `run` keeps the work in a child of the calling task that prefers ``BlockingThreads`` as its
/// executor, so task cancellation reaches it unchanged: the work's own `Task.isCancelled` checks
/// between chunks see the caller's cancellation, as they did before.
/// Async steps inside the work (GRDB's async reads, an actor's methods) suspend as usual and
/// resume on these threads.
public enum BlockingWork {
    /// The threads every `run` uses, shared by the whole process.
    static let threads = BlockingThreads(count: 4, name: "blocking")

    /// Whether the calling thread is a blocking-work thread.
    static var isCurrentThread: Bool { threads.isCurrent }

    /// Runs `body` on a blocking-work thread and returns its result.
    public static func run<T: Sendable>(
        _ body: @escaping @Sendable () async throws(BackupError) -> T
    ) async throws(BackupError) -> T {
        let result = await run { () async -> Result<T, BackupError> in
            do throws(BackupError) { return .success(try await body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// ``run(_:)`` for work that cannot fail.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        // A child task, because only a task's enqueueing honours an executor preference: a plain
        // call inside `withTaskExecutorPreference` would start on the caller's thread.
        await withTaskGroup(of: T.self) { group in
            group.addTask(executorPreference: threads) { await body() }
            return await group.next()!
        }
    }
}
