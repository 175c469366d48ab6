import Foundation
import Synchronization

/// Runs async work to its end from a blocking thread: how the blocking ``BundleStore`` API of
/// ``S3Store`` reaches the async S3 client.
///
/// The calling thread waits on a semaphore while the work runs as a task of its own on
/// ``BlockingWork``'s threads (its network I/O on the HTTP client's event loops), never on Swift's
/// cooperative pool, so a caller that blocks there cannot starve the work it waits for. Callers
/// should still be threads that may block (``BlockingWork``'s, NIO's thread pool): a blocked
/// cooperative thread is one fewer for every request.
enum BlockingBridge {
    static func wait<T: Sendable>(
        _ body: @escaping @Sendable () async throws(BackupError) -> T
    ) throws(BackupError) -> T {
        let outcome = Mutex<Result<T, BackupError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: BlockingWork.threads) {
            let result: Result<T, BackupError>
            do throws(BackupError) { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw .cancelled }
        return try result.get()
    }
}
