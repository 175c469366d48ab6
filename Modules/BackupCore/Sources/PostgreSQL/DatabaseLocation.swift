import Foundation

/// Where the protected database lives: a SQLite file or a PostgreSQL server's database.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(URL)
    case postgres(PostgresURL)

    /// A `postgres://` or `postgresql://` URL (the scheme in any case) or a SQLite path
    /// (a relative path is taken against `cwd`). Another `scheme://` is refused with
    /// ``BackupError/invalidInput(fields:)`` (field `database`), as is an unparsable URL.
    public static func parse(_ text: String, cwd: URL) throws(BackupError) -> DatabaseLocation {
        if let schemeEnd = text.range(of: "://") {
            let scheme = text[..<schemeEnd.lowerBound]
            if ["postgres", "postgresql"].contains(scheme.lowercased()) {
                return .postgres(try PostgresURL(parsing: text))
            }
            if !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) {
                throw .invalidInput(fields: [
                    "database": "\(scheme.prefix(20)):// is not supported: give a SQLite path or a postgresql:// URL"
                ])
            }
        }
        guard !text.isEmpty else { throw .invalidInput(fields: ["database": "is empty"]) }
        return .sqlite(URL(fileURLWithPath: text, relativeTo: cwd).standardizedFileURL)
    }

    /// The kind of source that backs this database up (`.sqlite` or `.postgresql`).
    public var kind: SourceKind {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgresql
        }
    }

    /// The path, or the redacted URL: what status, logs and the page show.
    public var displayed: String {
        switch self {
        case .sqlite(let url): url.path
        case .postgres(let url): url.redacted
        }
    }

    public var description: String { displayed }
}
