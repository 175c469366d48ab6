import Foundation
import GRDB
import Synchronization

/// A writer on its own thread and its own connection, committing transfers as fast as it can
/// until stopped. Every commit keeps ``SampleDatabase`` invariants. By default it never waits on
/// a lock: any `SQLITE_BUSY` is counted, not retried silently. With a `busyTimeout` it behaves
/// like a typical application instead: `BEGIN IMMEDIATE`, waiting up to that long for the lock.
/// Each acknowledged commit's `pair` is remembered (``acknowledgedPairs``).
public final class ContinuousWriter: Sendable {
    private struct State {
        var commits = 0
        var acknowledged: [Int] = []
        var busyErrors = 0
        var otherErrors: [String] = []
        var stop = false
        var finished = false
    }

    private let state = Mutex(State())
    private let path: String
    private let busyTimeout: TimeInterval?

    public init(path: String, busyTimeout: TimeInterval? = nil) {
        self.path = path
        self.busyTimeout = busyTimeout
    }

    public var commits: Int { state.withLock { $0.commits } }
    /// The `pair` of every commit that returned success, in commit order.
    public var acknowledgedPairs: [Int] { state.withLock { $0.acknowledged } }
    public var busyErrors: Int { state.withLock { $0.busyErrors } }
    public var otherErrors: [String] { state.withLock { $0.otherErrors } }

    public func start() {
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    /// Asks the writer to stop and waits until it has.
    public func stop() {
        state.withLock { $0.stop = true }
        while !state.withLock({ $0.finished }) { Thread.sleep(forTimeInterval: 0.001) }
    }

    /// Blocks until the writer has committed more than `count` transactions (or `timeout` passes).
    public func waitForCommits(moreThan count: Int, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if commits > count { return true }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return false
    }

    private func loop() {
        defer { state.withLock { $0.finished = true } }
        var config = Configuration()
        config.busyMode = busyTimeout.map { .timeout($0) } ?? .immediateError
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else {
            state.withLock { $0.otherErrors.append("cannot open") }
            return
        }
        var generator = SystemRandomNumberGenerator()
        var pair = 1_000_000
        while !state.withLock({ $0.stop }) {
            pair += 1
            let from = Int.random(in: 1...100, using: &generator)
            let to = Int.random(in: 1...100, using: &generator)
            let amount = Int.random(in: 1...1000, using: &generator)
            let currentPair = pair
            do {
                try queue.inTransaction(busyTimeout == nil ? .deferred : .immediate) { db in
                    try db.execute(
                        sql: "UPDATE account SET balance = balance - ? WHERE id = ?", arguments: [amount, from])
                    try db.execute(
                        sql: "UPDATE account SET balance = balance + ? WHERE id = ?", arguments: [amount, to])
                    try db.execute(
                        sql: "INSERT INTO ledger(pair, amount) VALUES (?, ?), (?, ?)",
                        arguments: [currentPair, amount, currentPair, -amount])
                    return .commit
                }
                state.withLock {
                    $0.commits += 1
                    $0.acknowledged.append(currentPair)
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                state.withLock { $0.busyErrors += 1 }
            } catch {
                state.withLock { $0.otherErrors.append("\(error)") }
            }
        }
    }
}
