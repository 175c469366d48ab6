import Foundation

/// The environment PostgreSQL's client tools run in: where they are found (`PATH`) and what
/// libpq reads itself (`PGPASSWORD`, `PGPASSFILE`, `PGSSLMODE`, `HOME` for `~/.pgpass`…).
public struct PostgresEnvironment: Sendable, Equatable {
    public var variables: [String: String]

    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// This process's environment.
    public static var process: PostgresEnvironment { PostgresEnvironment(ProcessInfo.processInfo.environment) }
}
