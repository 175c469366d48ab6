import Foundation

/// A few threads of our own that run tasks' jobs: the task executor behind ``BlockingWork``.
///
/// The DeflateWorkers pattern (plain threads, one queue under an `NSCondition`) as a Swift
/// `TaskExecutor`, so that work moved here stays in its task: cancellation, task-local values and
/// structured concurrency keep working. The threads start with the first job and live as long as
/// the process; they run at normal priority (the compression threads below them run at nice +5).
final class BlockingThreads: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `queue`, `started` and `members` are read and written only while holding
    // `condition`; `count` and `name` never change.
    private let condition = NSCondition()
    private var queue: [UnownedJob] = []
    private var started = false
    /// The threads' `pthread_self()`, as they start.
    private var members: Set<UInt> = []
    private let count: Int
    private let name: String

    /// - Parameter count: how many jobs may block at once; more wait in line.
    init(count: Int, name: String) {
        self.count = max(1, count)
        self.name = name
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if !started {
            started = true
            for index in 0..<count {
                let thread = Thread { [self] in work() }
                thread.name = "\(name)-\(index)"
                thread.start()
            }
        }
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Whether the calling thread is one of these.
    var isCurrent: Bool {
        condition.lock()
        defer { condition.unlock() }
        return members.contains(UInt(bitPattern: Int(bitPattern: pthread_self())))
    }

    private func work() {
        condition.lock()
        members.insert(UInt(bitPattern: Int(bitPattern: pthread_self())))
        condition.unlock()
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let job = queue.removeFirst()
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
