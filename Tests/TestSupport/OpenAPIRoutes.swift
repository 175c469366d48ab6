import Foundation

/// The operations `docs/openapi.yaml` documents, read line by line (the document keeps one
/// operation per `    method:` line under `  /path:`).
public struct OpenAPIRoute: Hashable, CustomStringConvertible, Sendable {
    public var method: String
    public var path: String
    /// `security: []`: the operation needs no token.
    public var isPublic: Bool

    public var description: String { "\(method) \(path)" }

    /// `path` with `{id}` replaced.
    public func path(id: String) -> String { path.replacingOccurrences(of: "{id}", with: id) }

    public static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    public static func all() throws -> [OpenAPIRoute] {
        let lines = try String(contentsOf: document, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        var routes: [OpenAPIRoute] = []
        var inPaths = false
        var path: String?
        for line in lines {
            if !line.hasPrefix(" ") { inPaths = line == "paths:" }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path,
                let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" })
            {
                routes.append(OpenAPIRoute(method: method.uppercased(), path: path, isPublic: false))
            } else if line.trimmingCharacters(in: .whitespaces) == "security: []", !routes.isEmpty {
                routes[routes.count - 1].isPublic = true
            }
        }
        return routes
    }
}
