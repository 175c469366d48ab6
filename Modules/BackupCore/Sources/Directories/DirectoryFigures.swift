/// What the manifest records about a directory source: where the tree was, and what could not
/// be copied faithfully (skipped entries, files that changed while they were read).
public struct DirectoryFigures: Codable, Equatable, Sendable {
    /// The directory's absolute path when the backup was taken.
    public var path: String
    /// Human sentences, one per entry skipped or copied while it changed; empty when none.
    public var warnings: [String]

    public init(path: String, warnings: [String] = []) {
        self.path = path
        self.warnings = warnings
    }
}
