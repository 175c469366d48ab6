import Foundation

/// A `postgres://` or `postgresql://` connection URL (libpq's URI form). The password is held
/// but never shown: ``redacted`` (also ``description``) is the only form printed anywhere, and
/// the password reaches a child process only through its environment (``childEnvironment(base:)``).
///
/// One host only (libpq's comma-separated host lists are refused). A password may also come as
/// the `password` query parameter; it is taken out of the URL the same way.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The scheme as given, lowercased (`postgres` or `postgresql`).
    let scheme: String
    /// The role to connect as; nil: libpq's default (`PGUSER`, else the operating system user).
    public private(set) var user: String?
    /// A host name, an IP address (IPv6 without brackets) or a Unix socket directory (starts with `/`).
    public private(set) var host: String?
    public private(set) var port: Int?
    /// The database name as the URL gives it, nil when it gives none.
    let databaseName: String?
    /// The query parameters other than `password`, in order (`sslmode`, `connect_timeout`…).
    public var parameters: [(name: String, value: String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [Parameter]
    /// The password, from the URL's user part or its `password` parameter.
    let password: String?

    private struct Parameter: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// Parses user, password, host (also `[ipv6]` and a percent-encoded socket directory),
    /// port, database name and query parameters.
    ///
    /// Throws ``BackupError/invalidInput(fields:)`` with the field `database` for anything
    /// unparsable; the reason never contains the password.
    public init(parsing text: String) throws(BackupError) {
        func invalid(_ reason: String) -> BackupError { .invalidInput(fields: ["database": reason]) }
        guard let schemeEnd = text.range(of: "://") else { throw invalid("is not a postgresql:// URL") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the URL scheme must be postgres:// or postgresql://")
        }
        self.scheme = scheme
        var rest = text[schemeEnd.upperBound...]
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if rest.contains("#") { throw invalid("a postgresql:// URL has no fragment (#)") }
        // The authority ends at the first `/` after the last `@` (a raw `@` may sit in a password).
        let userEnd = rest.lastIndex(of: "@")
        let hostStart = userEnd.map { rest.index(after: $0) } ?? rest.startIndex
        let slash = rest[hostStart...].firstIndex(of: "/")
        let hostPart = rest[hostStart..<(slash ?? rest.endIndex)]
        let pathPart = slash.map { rest[rest.index(after: $0)...] }

        var password: String?
        if let userEnd {
            let userInfo = rest[rest.startIndex..<userEnd]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.decoded(userInfo[..<colon], field: "the user name")
                self.user = user.isEmpty ? nil : user
                // A password that does not decode is kept as given, never echoed in an error.
                let raw = userInfo[userInfo.index(after: colon)...]
                password = String(raw).removingPercentEncoding ?? String(raw)
            } else {
                let user = try Self.decoded(userInfo, field: "the user name")
                self.user = user.isEmpty ? nil : user
            }
        }

        if hostPart.contains(",") { throw invalid("several hosts in one URL are not supported") }
        var hostText = hostPart
        var portText: Substring?
        if hostText.hasPrefix("[") {
            guard let close = hostText.firstIndex(of: "]") else { throw invalid("an IPv6 host lacks its closing ]") }
            let address = hostText[hostText.index(after: hostText.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" })
            else { throw invalid("[\(address)] is not an IPv6 address") }
            let after = hostText[hostText.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected text after the IPv6 host")
            }
            host = String(address)
        } else {
            if let colon = hostText.lastIndex(of: ":") {
                portText = hostText[hostText.index(after: colon)...]
                hostText = hostText[..<colon]
            }
            let decodedHost = try Self.decoded(hostText, field: "the host")
            host = decodedHost.isEmpty ? nil : decodedHost
        }
        if let portText, !portText.isEmpty {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw invalid("the port \(portText.prefix(20).debugDescription) is not a number from 1 to 65535")
            }
            self.port = port
        }

        var databaseName: String?
        if let pathPart, !pathPart.isEmpty {
            let name = try Self.decoded(pathPart, field: "the database name")
            if name.contains("/") { throw invalid("the database name may not contain /") }
            databaseName = name
        }

        var parameters: [Parameter] = []
        if let query, !query.isEmpty {
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "=") else {
                    throw invalid("the query parameter \(pair.prefix(40).debugDescription) has no value")
                }
                let name = try Self.decoded(pair[..<equals], field: "a query parameter's name")
                let rawValue = pair[pair.index(after: equals)...]
                if name == "password" {
                    password = String(rawValue).removingPercentEncoding ?? String(rawValue)
                    continue
                }
                let value = try Self.decoded(rawValue, field: "the query parameter \(name)")
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw invalid("\(name.prefix(40).debugDescription) is not a connection parameter name")
                }
                switch name {
                case "host": host = value.isEmpty ? host : value
                case "port":
                    guard let port = Int(value), (1...65535).contains(port) else {
                        throw invalid("the port \(value.prefix(20).debugDescription) is not a number from 1 to 65535")
                    }
                    self.port = port
                case "user": user = value.isEmpty ? user : value
                case "dbname": databaseName = value.isEmpty ? databaseName : value
                default: break
                }
                parameters.append(Parameter(name: name, value: value))
            }
        }
        self.databaseName = databaseName
        self.storedParameters = parameters
        self.password = password?.isEmpty == true ? nil : password
    }

    /// The database connected to: the URL's, else (as libpq does) the user name, else the
    /// operating system user's name.
    public var database: String { databaseName ?? user ?? NSUserName() }

    /// Whether the URL carries a password (in its user part or its `password` parameter).
    public var hasPassword: Bool { password != nil }

    /// The URL with the password removed: the only form shown anywhere (status, page, logs,
    /// manifest, errors, catalog) and the one given to the tools' `--dbname`.
    public var redacted: String {
        var text = scheme + "://"
        if let user { text += Self.encoded(user, allowing: Self.segmentAllowed) + "@" }
        if let host {
            if host.contains(":") {
                text += "[\(host)]"
            } else {
                text += Self.encoded(host, allowing: Self.segmentAllowed)
            }
        }
        if let port { text += ":\(port)" }
        if let databaseName, !storedParameters.contains(where: { $0.name == "dbname" }) {
            text += "/" + Self.encoded(databaseName, allowing: Self.segmentAllowed)
        }
        if !storedParameters.isEmpty {
            text +=
                "?"
                + storedParameters.map {
                    Self.encoded($0.name, allowing: Self.segmentAllowed) + "="
                        + Self.encoded($0.value, allowing: Self.segmentAllowed)
                }.joined(separator: "&")
        }
        return text
    }

    /// The same connection with another database (`--target-url` takes a whole URL; this is for tests).
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.storedParameters.removeAll { $0.name == "dbname" }
        return PostgresURL(
            scheme: scheme, user: user, host: host, port: port, databaseName: database,
            parameters: copy.storedParameters, password: password)
    }

    private init(
        scheme: String, user: String?, host: String?, port: Int?, databaseName: String?, parameters: [Parameter],
        password: String?
    ) {
        self.scheme = scheme
        self.user = user
        self.host = host
        self.port = port
        self.databaseName = databaseName
        self.storedParameters = parameters
        self.password = password
    }

    /// The parent's environment plus `PGPASSWORD` when the URL has a password; without one,
    /// libpq reads `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass` itself.
    func childEnvironment(base: [String: String]) -> [String: String] {
        var environment = base
        if let password { environment["PGPASSWORD"] = password }
        return environment
    }

    public var description: String { redacted }
    public var debugDescription: String { redacted }
    public var customMirror: Mirror { Mirror(self, children: ["redacted": redacted]) }

    public static func == (lhs: PostgresURL, rhs: PostgresURL) -> Bool {
        lhs.redacted == rhs.redacted && lhs.password == rhs.password
    }

    private static func decoded(_ text: Substring, field: String) throws(BackupError) -> String {
        guard let value = String(text).removingPercentEncoding else {
            throw .invalidInput(fields: ["database": "\(field) has a bad percent-encoding"])
        }
        return value
    }

    private static func encoded(_ text: String, allowing allowed: CharacterSet) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Unreserved characters: everything else is percent-encoded (a socket directory's `/` too).
    private static let segmentAllowed = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}

extension PostgresURL {
    /// `text` with the password (as given and percent-encoded) replaced by `********`: what a
    /// tool wrote may echo the connection string.
    func scrubbed(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        var text = text
        let forms = [password, password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password]
        for form in Set(forms) where !form.isEmpty {
            text = text.replacingOccurrences(of: form, with: "********")
        }
        return text
    }
}
