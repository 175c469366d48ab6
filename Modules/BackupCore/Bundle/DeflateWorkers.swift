import CZlib
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A few threads that deflate ``DeflateBlock``s, each with its own zlib stream.
///
/// Dedicated threads rather than Dispatch or the Swift concurrency pool: the work is long and
/// CPU-bound, and on the shared pool it would hold the threads the server's tasks need. They run
/// at nice +5 (``niceness``): beside a writer committing 200 times a second on a busy 2-core
/// machine, the writer's p99 beside a backup went from 2-13× to 0.3-5× its p99 alone, with no
/// measurable cost to the backup's time. (Nice +10 made a backup beside other busy processes 3 to
/// 4 times as long.)
final class DeflateWorkers: @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is read and written only while holding
    // `condition` (an NSCondition), except the blocks' contents, which are handed over through the
    // queue: the writer never touches a block between `submit` and seeing it in `done`, and a
    // worker never touches it after moving it there.
    private let condition = NSCondition()
    private var queue: [DeflateBlock] = []
    private var done: Set<ObjectIdentifier> = []
    private var stopping = false
    private var running = 0

    let count: Int

    /// Starts `count` threads deflating at `level` (1...9).
    init(count: Int, level: Int) {
        self.count = max(1, count)
        running = self.count
        for index in 0..<self.count {
            let thread = Thread { [self] in work(level: level) }
            thread.name = "deflate-\(index)"
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    /// Queues a block for compression.
    func submit(_ block: DeflateBlock) {
        condition.lock()
        queue.append(block)
        condition.signal()
        condition.unlock()
    }

    /// Whether `block` has been compressed; waits for it when `wait` is true.
    func isDone(_ block: DeflateBlock, wait: Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while wait && !done.contains(ObjectIdentifier(block)) {
            condition.wait()
        }
        return done.remove(ObjectIdentifier(block)) != nil
    }

    /// Stops the threads once the queue is empty and waits for them to end.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// The deflate threads' nice value: a little below the application's, so its writers and
    /// the API win the CPU when both want it.
    static let niceness: Int32 = 5

    private func work(level: Int) {
        #if canImport(Glibc)
            // On Linux the nice value is per thread, and `who` 0 names the calling thread only.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        #endif
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = deflateInit2_(
            stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size))
        defer {
            if rc == Z_OK { deflateEnd(stream) }
            stream.deallocate()
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
        while let block = next() {
            if rc == Z_OK {
                block.compress(with: stream)
            } else {
                block.fail(rc)
            }
            condition.lock()
            done.insert(ObjectIdentifier(block))
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next queued block, or nil when stopping.
    private func next() -> DeflateBlock? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        return queue.isEmpty ? nil : queue.removeFirst()
    }
}
