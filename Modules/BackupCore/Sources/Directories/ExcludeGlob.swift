#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One `exclude` pattern of the settings, matched against a path relative to a directory's root
/// (`/`-separated).
///
/// A pattern without `/` matches the base name at any depth (`*.tmp`, `.DS_Store`). A pattern
/// with `/` matches the whole relative path segment by segment: `*`, `?` and `[…]` stay within
/// one segment, `**` matches any number of whole segments (`**/thumbs/*`), and a trailing `**`
/// at least one, so `cache/**` excludes everything under the top-level `cache` but keeps the
/// (then empty) folder itself. Any `/` anchors the pattern at the root: `/cache` and `cache/`
/// match the top-level `cache` only.
struct ExcludeGlob: Sendable, Equatable {
    /// The pattern as configured.
    let pattern: String
    private let segments: [String]
    private let matchesBaseName: Bool

    init(_ pattern: String) {
        self.pattern = pattern
        let trimmed = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        segments = trimmed
        matchesBaseName = !pattern.contains("/")
    }

    /// Whether `relativePath` (no leading `/`, e.g. `a/b.tmp`) is excluded.
    func matches(_ relativePath: String) -> Bool {
        guard !segments.isEmpty else { return false }
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let last = parts.last else { return false }
        if matchesBaseName { return Self.segment(segments[0], matches: last) }
        return Self.match(segments[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            // A trailing `**` needs at least one segment: `cache/**` is what is under `cache`.
            let least = rest.isEmpty ? 1 : 0
            guard path.count >= least else { return false }
            for skip in least...path.count where match(rest, path.dropFirst(skip)) { return true }
            return false
        }
        guard let segment = path.first, Self.segment(first, matches: segment) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    private static func segment(_ pattern: String, matches name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}

extension [ExcludeGlob] {
    /// Whether any pattern excludes `relativePath`.
    func excludes(_ relativePath: String) -> Bool {
        contains { $0.matches(relativePath) }
    }
}
