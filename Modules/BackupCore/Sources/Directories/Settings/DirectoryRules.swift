import Foundation

/// What makes a list of directories and exclude patterns acceptable (settings `directories`
/// and `exclude`), judged the same way for both faces; problems are keyed by JSON path
/// (`directories[1]`), as the API's 422 and the CLI's exit 2 name them.
enum DirectoryRules {
    /// At most this many directories, and at most this many exclude patterns.
    static let maximumDirectories = 100
    static let maximumPatterns = 100

    /// `path` without a trailing or doubled `/` (`/srv/app/uploads/` is `/srv/app/uploads`).
    static func normalized(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return "/" + parts.joined(separator: "/")
    }

    /// The problems of `directories` that need no file system: each absolute, without `.` or
    /// `..` parts, listed once, none inside another.
    static func listProblems(_ directories: [String]) -> [String: String] {
        var fields: [String: String] = [:]
        guard directories.count <= maximumDirectories else {
            return ["directories": "at most \(maximumDirectories) directories"]
        }
        var judged: [(index: Int, path: String)] = []
        for (index, path) in directories.enumerated() {
            let field = "directories[\(index)]"
            if let problem = pathProblem(path) {
                fields[field] = problem
                continue
            }
            judged.append((index, normalized(path)))
        }
        fields.merge(overlapProblems(judged)) { own, _ in own }
        return fields
    }

    /// Each directory listed twice or inside another (`paths` with their index in the list).
    static func overlapProblems(_ paths: [(index: Int, path: String)], resolved: Bool = false) -> [String: String] {
        var fields: [String: String] = [:]
        for (position, entry) in paths.enumerated() {
            let field = "directories[\(entry.index)]"
            for other in paths[..<position] {
                let shown = "directories[\(other.index)], \(other.path)"
                if entry.path == other.path {
                    fields[field] =
                        resolved
                        ? "\(entry.path) is the same directory as \(shown)" : "\(entry.path) is listed twice (\(shown))"
                } else if contains(other.path, entry.path) {
                    fields[field] = "\(entry.path) is inside \(shown): list each directory once"
                } else if contains(entry.path, other.path) {
                    fields[field] = "\(entry.path) contains \(shown): list each directory once"
                }
                if fields[field] != nil { break }
            }
        }
        return fields
    }

    /// Whether `inner` is `outer` or below it (both normalized absolute paths).
    static func contains(_ outer: String, _ inner: String) -> Bool {
        outer == "/" || inner == outer || inner.hasPrefix(outer + "/")
    }

    private static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.contains("\0") { return "must not contain a NUL character" }
        guard path.hasPrefix("/") else { return "\(path) is not an absolute path (it must start with /)" }
        let parts = path.split(separator: "/")
        if parts.contains(where: { $0 == "." || $0 == ".." }) {
            return "\(path) must not contain . or .. parts"
        }
        return nil
    }

    /// The problems of the exclude patterns: each non-empty without NUL, at most 100.
    static func patternProblems(_ patterns: [String]) -> [String: String] {
        guard patterns.count <= maximumPatterns else { return ["exclude": "at most \(maximumPatterns) patterns"] }
        var fields: [String: String] = [:]
        for (index, pattern) in patterns.enumerated() {
            if pattern.isEmpty {
                fields["exclude[\(index)]"] = "must not be empty"
            } else if pattern.contains("\0") {
                fields["exclude[\(index)]"] = "must not contain a NUL character"
            }
        }
        return fields
    }

    /// What the file system says about each directory: it must exist and be a directory, lie
    /// outside the data directory and not contain it, and not contain the protected database
    /// (a files restore swaps whole directories, which would move the live database away from
    /// the application; the database is backed up on its own); two entries that are the same directory
    /// through a symlink, or one inside the other, are refused too. Paths are compared with
    /// their symlinks resolved.
    static func fileSystemProblems(_ directories: [String], dataDirectory: DataDirectory) -> [String: String] {
        var fields: [String: String] = [:]
        let data = resolved(dataDirectory.root.path)
        let database = dataDirectory.database
        let liveDatabase = resolved(database.deletingLastPathComponent().path) + "/" + database.lastPathComponent
        var judged: [(index: Int, path: String)] = []
        for (index, path) in directories.enumerated() where pathProblem(path) == nil {
            let field = "directories[\(index)]"
            let path = normalized(path)
            var status = stat()
            guard stat(path, &status) == 0 else {
                let reason = errno == ENOENT ? "does not exist" : String(cString: strerror(errno))
                fields[field] = "\(path) \(reason)"
                continue
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                fields[field] = "\(path) is not a directory"
                continue
            }
            let real = resolved(path)
            if contains(data, real) {
                fields[field] = "\(path) is inside the data directory \(dataDirectory.root.path)"
            } else if contains(real, data) {
                fields[field] = "\(path) contains the data directory \(dataDirectory.root.path)"
            } else if contains(real, liveDatabase) {
                fields[field] =
                    "\(path) contains the protected database \(database.path): list the folders beside it instead"
            } else {
                judged.append((index, real))
            }
        }
        fields.merge(overlapProblems(judged, resolved: true)) { own, _ in own }
        return fields
    }

    /// `path` with every symlink resolved (itself when it cannot be resolved).
    private static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return normalized(path) }
        defer { free(real) }
        return String(cString: real)
    }
}
