/// One finding of ``HealthChecks``: what was checked, how it stands, what was seen, and what
/// to do about it.
public struct HealthCheck: Codable, Equatable, Sendable {
    /// `ok`, `warn` (works, but should be looked at) or `fail` (broken or unsafe).
    public enum Status: String, Codable, Sendable, Comparable {
        case ok, warn, fail

        public static func < (lhs: Status, rhs: Status) -> Bool {
            let order: [Status] = [.ok, .warn, .fail]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    /// A short stable name: `data-directory`, `free-space`, `database`, `api-token`, …
    public var name: String
    public var status: Status
    /// What was found, in a sentence.
    public var detail: String
    /// The command or step that fixes it (nil when nothing is to be done).
    public var fix: String?

    public init(name: String, status: Status, detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }

    static func ok(_ name: String, _ detail: String) -> HealthCheck {
        HealthCheck(name: name, status: .ok, detail: detail)
    }
}

extension [HealthCheck] {
    /// True when no check failed (warnings do not count).
    public var healthy: Bool { allSatisfy { $0.status != .fail } }
}
