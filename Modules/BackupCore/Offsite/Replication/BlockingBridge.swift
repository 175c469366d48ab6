import Foundation
import Synchronization

/// Runs async work to its end from a blocking thread: how the blocking ``BundleStore`` API of
/// ``S3Store`` reaches the async S3 client.
///
/// The calling thread waits on a semaphore while the work runs as a task of its own (its
/// network I/O on the HTTP client's event loops). So it must only be called from a thread that
/// may block (``BlockingWork``'s threads, NIO's thread pool, the CLI's main thread before any
/// async work), never from Swift's cooperative pool: two blocked pool threads would leave no
/// thread to run the work they wait for.
enum BlockingBridge {
    static func wait<T: Sendable>(
        _ body: @escaping @Sendable () async throws(BackupError) -> T
    ) throws(BackupError) -> T {
        let outcome = Mutex<Result<T, BackupError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
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
