import Foundation
import Synchronization

/// Admission control for a server during a restore: normally every request is admitted and
/// counted; in maintenance new ones are refused, and ``drain(timeout:)`` waits for the counted
/// ones to finish.
public final class MaintenanceGate: Sendable {
    private struct State {
        var inMaintenance = false
        var inFlight = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isInMaintenance: Bool { state.withLock { $0.inMaintenance } }

    /// Admits a request (counting it until ``leave()``), or returns false in maintenance.
    public func enter() -> Bool {
        state.withLock { state in
            guard !state.inMaintenance else { return false }
            state.inFlight += 1
            return true
        }
    }

    public func leave() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Refuses new requests from now on.
    public func enterMaintenance() {
        state.withLock { $0.inMaintenance = true }
    }

    /// Admits requests again (a restore that failed before replacing anything).
    public func leaveMaintenance() {
        state.withLock { $0.inMaintenance = false }
    }

    /// Waits until no admitted request is in flight, at most `timeout`; returns whether it drained.
    public func drain(timeout: Duration = .seconds(10)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while state.withLock({ $0.inFlight }) > 0 {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}
