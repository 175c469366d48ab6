import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a restore must give back of a directory tree, read without following a symlink:
/// each path below the root with its type, permission bits, mtime (seconds; directories' and
/// files'), a file's bytes and a symlink's target. Two trees are the same when their
/// fingerprints are equal.
public struct TreeFingerprint: Equatable, CustomStringConvertible {
    public struct Node: Equatable, Sendable {
        public var kind: String
        public var mode: Int
        public var mtime: Int
        public var content: Data?
        public var target: String?

        public init(kind: String, mode: Int, mtime: Int, content: Data? = nil, target: String? = nil) {
            self.kind = kind
            self.mode = mode
            self.mtime = mtime
            self.content = content
            self.target = target
        }
    }

    public var nodes: [String: Node]

    /// Reads the tree at `root` (the root itself is listed as ".").
    public init(_ root: URL) throws {
        nodes = [:]
        try visit(root.path, relative: ".")
    }

    private mutating func visit(_ path: String, relative: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        let mode = Int(info.st_mode & 0o7777)
        let mtime = Int(info.st_mtim.tv_sec)
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            nodes[relative] = Node(kind: "directory", mode: mode, mtime: mtime)
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
                try visit(path + "/" + name, relative: relative == "." ? name : relative + "/" + name)
            }
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            nodes[relative] = Node(kind: "symlink", mode: 0, mtime: 0, target: target)
        case S_IFREG:
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            nodes[relative] = Node(kind: "file", mode: mode, mtime: mtime, content: data)
        default:
            nodes[relative] = Node(kind: "other", mode: mode, mtime: mtime)
        }
    }

    /// The paths whose nodes differ between the two trees, for a readable failure.
    public func differences(from other: TreeFingerprint) -> [String] {
        Set(nodes.keys).union(other.nodes.keys).sorted().compactMap { path in
            nodes[path] == other.nodes[path]
                ? nil
                : "\(path): \(nodes[path].map { "\($0)" } ?? "absent") vs \(other.nodes[path].map { "\($0)" } ?? "absent")"
        }
    }

    public var description: String { "\(nodes.count) nodes" }
}
