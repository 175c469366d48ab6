import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Safe extraction of a directory source (TreeExtractor)")
struct TreeExtractorTests {
    typealias Item = (TarEntry, [UInt8])

    static func directory(_ path: String, mode: Int = 0o755, mtime: Int64 = 1_600_000_000) -> Item {
        (TarEntry(path: path, type: .directory, mode: mode, mtime: mtime), [])
    }

    static func file(_ path: String, _ text: String, mode: Int = 0o644, mtime: Int64 = 1_600_000_100) -> Item {
        let bytes = Array(text.utf8)
        return (TarEntry(path: path, size: Int64(bytes.count), mode: mode, mtime: mtime), bytes)
    }

    static func symlink(_ path: String, to target: String) -> Item {
        (TarEntry(path: path, type: .symlink, mode: 0o777, mtime: 1_600_000_200, linkTarget: target), [])
    }

    /// The manifest's entries for `items` (the last copy of a repeated file wins).
    static func manifest(_ items: [Item]) -> [Manifest.Entry] {
        var listed: [String: Manifest.Entry] = [:]
        var order: [String] = []
        for (entry, data) in items {
            if listed[entry.path] == nil { order.append(entry.path) }
            listed[entry.path] = Manifest.Entry(
                path: entry.path, type: entry.type, size: entry.type == .file ? entry.size : 0,
                sha256: entry.type == .file ? SHA256.hash(data: data).hexString : nil, mode: entry.mode,
                mtime: entry.mtime, target: entry.linkTarget)
        }
        return order.map { listed[$0]! }
    }

    /// Frames `items` as a tar archive, reads it back with ``TarReader`` (which refuses what
    /// it refuses first) and extracts every entry into `staging`; returns `finish()`'s problems.
    static func extract(
        _ items: [Item], into staging: URL, expected: [Manifest.Entry]? = nil
    ) throws(BackupError) -> [String] {
        var reader = TarTests.reader(over: TarTests.archive(items))
        let extractor = try TreeExtractor(
            staging: staging, sourceName: "site", expected: expected ?? manifest(items))
        while let entry = try reader.nextEntry() {
            try extractor.extract(entry, from: &reader)
        }
        return try extractor.finish()
    }

    /// Hands `entries` (directories, symlinks, empty files) to an extractor directly, past
    /// ``TarReader``'s own checks, as a reader with a gap in them would.
    static func extractDirectly(_ entries: [TarEntry], into staging: URL) throws(BackupError) {
        let extractor = try TreeExtractor(
            staging: staging, sourceName: "site", expected: manifest(entries.map { ($0, []) }))
        var empty = TarReader { _ in 0 }
        for entry in entries { try extractor.extract(entry, from: &empty) }
    }

    @Test("a tree comes back exactly: nested and empty folders, long and Cyrillic names, modes, mtimes, symlinks")
    func extractsTheTree() throws {
        let scratch = TemporaryDirectory("extract")
        let long = String(repeating: "n", count: 150)
        let items: [Item] = [
            Self.directory("files/site", mode: 0o750, mtime: 1_500_000_000),
            Self.directory("files/site/a"),
            Self.directory("files/site/a/b"),
            Self.file("files/site/a/b/deep.txt", "deep"),
            Self.directory("files/site/empty", mode: 0o700, mtime: 1_500_000_001),
            Self.file("files/site/\(long)", "long name"),
            Self.file("files/site/отчёт.txt", "кириллица"),
            Self.file("files/site/run.sh", "#!/bin/sh\n", mode: 0o755),
            Self.file("files/site/suid", "s", mode: 0o4755),
            Self.directory("files/site/ro", mode: 0o555),
            Self.file("files/site/ro/inside", "inside a read-only folder", mode: 0o444),
            Self.symlink("files/site/inner", to: "a/b/deep.txt"),
            Self.symlink("files/site/passwd", to: "/etc/passwd"),
        ]
        let staging = scratch.url.appendingPathComponent("site.restore-1")
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        #expect(try Self.extract(items, into: staging) == [])

        let tree = try TreeFingerprint(staging)
        #expect(tree.nodes["."]?.mode == 0o750 && tree.nodes["."]?.mtime == 1_500_000_000)
        #expect(tree.nodes["a/b/deep.txt"]?.content == Data("deep".utf8))
        #expect(tree.nodes["empty"] == .init(kind: "directory", mode: 0o700, mtime: 1_500_000_001))
        #expect(tree.nodes[long]?.content == Data("long name".utf8))
        #expect(tree.nodes["отчёт.txt"]?.content == Data("кириллица".utf8))
        #expect(tree.nodes["run.sh"]?.mode == 0o755 && tree.nodes["run.sh"]?.mtime == 1_600_000_100)
        #expect(tree.nodes["suid"]?.mode == 0o755, "setuid and setgid are never restored")
        #expect(tree.nodes["ro"]?.mode == 0o555 && tree.nodes["ro/inside"]?.mode == 0o444)
        #expect(tree.nodes["inner"]?.target == "a/b/deep.txt")
        #expect(tree.nodes["passwd"]?.target == "/etc/passwd")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
        #expect(tree.nodes.count == items.count)
        try FileTree.remove(staging)
        #expect(!FileOps.exists(staging))
    }

    @Test("a file stored twice (re-read while it changed): the later copy is the one extracted")
    func laterCopyWins() throws {
        let scratch = TemporaryDirectory("extract")
        let items: [Item] = [
            Self.directory("files/site"),
            Self.file("files/site/log", "first copy, longer than the second"),
            Self.file("files/site/log", "second", mode: 0o600),
        ]
        let staging = scratch.url.appendingPathComponent("staging")
        #expect(try Self.extract(items, into: staging) == [])
        let tree = try TreeFingerprint(staging)
        #expect(tree.nodes["log"]?.content == Data("second".utf8) && tree.nodes["log"]?.mode == 0o600)
    }

    @Test("what the manifest does not say is refused or reported: unlisted entries, changed bytes, missing entries")
    func comparesWithTheManifest() throws {
        let scratch = TemporaryDirectory("extract")
        let items: [Item] = [Self.directory("files/site"), Self.file("files/site/a", "alpha")]
        var listed = Self.manifest(items)

        #expect(
            throws: BackupError.verificationFailed(reason: "tar entry \"files/site/a\" is not listed in the manifest")
        ) {
            _ = try Self.extract(items, into: scratch.url.appendingPathComponent("1"), expected: [listed[0]])
        }
        listed[1].sha256 = String(repeating: "0", count: 64)
        let changed = try Self.extract(items, into: scratch.url.appendingPathComponent("2"), expected: listed)
        #expect(changed.count == 1 && changed[0].contains("SHA-256"))

        let missing = try Self.extract(
            [items[0]], into: scratch.url.appendingPathComponent("3"), expected: Self.manifest(items))
        #expect(missing == ["entry files/site/a is listed in the manifest but missing from the bundle"])
    }

    @Test("hostile names and shapes are refused and nothing is written outside the staging directory")
    func refusesHostileEntries() throws {
        let scratch = TemporaryDirectory("extract")
        let outside = scratch.url.appendingPathComponent("outside", isDirectory: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let root = TarEntry(path: "files/site", type: .directory, mode: 0o755)
        let cases: [(String, [TarEntry])] = [
            ("a .. component", [root, TarEntry(path: "files/site/../../outside/evil", size: 0)]),
            ("an absolute name", [root, TarEntry(path: "/outside/evil", size: 0)]),
            ("another source's entry", [root, TarEntry(path: "files/other/evil", size: 0)]),
            (
                "a file through a symlink",
                [
                    root, TarEntry(path: "files/site/link", type: .symlink, mode: 0o777, linkTarget: outside.path),
                    TarEntry(path: "files/site/link/evil", size: 0),
                ]
            ),
            (
                "a directory through a symlink",
                [
                    root, TarEntry(path: "files/site/link", type: .symlink, mode: 0o777, linkTarget: outside.path),
                    TarEntry(path: "files/site/link/evil", type: .directory, mode: 0o755),
                ]
            ),
            (
                "a directory with the path of a file",
                [root, TarEntry(path: "files/site/x", size: 0), TarEntry(path: "files/site/x", type: .directory)]
            ),
            (
                "a file with the path of a directory",
                [root, TarEntry(path: "files/site/x", type: .directory), TarEntry(path: "files/site/x", size: 0)]
            ),
            (
                "a symlink with the path of a file",
                [
                    root, TarEntry(path: "files/site/x", size: 0),
                    TarEntry(path: "files/site/x", type: .symlink, linkTarget: outside.path),
                ]
            ),
            ("a file before its directory", [root, TarEntry(path: "files/site/d/evil", size: 0)]),
            ("an entry before the root", [TarEntry(path: "files/site/evil", size: 0)]),
            ("a root that is a file", [TarEntry(path: "files/site", size: 0)]),
            ("the root twice", [root, root]),
        ]
        for (index, (label, entries)) in cases.enumerated() {
            let staging = scratch.url.appendingPathComponent("staging-\(index)")
            #expect(throws: BackupError.self, "\(label)") {
                try Self.extractDirectly(entries, into: staging)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "\(label)")
        }
    }

    @Test("the staging directory must be new: an existing one is in the way")
    func stagingMustBeNew() throws {
        let scratch = TemporaryDirectory("extract")
        let staging = scratch.url.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        #expect(throws: BackupError.pathInTheWay(path: staging.path)) {
            _ = try TreeExtractor(staging: staging, sourceName: "site", expected: [])
        }
    }

    @Test("removing a tree removes symlinks, never what they point at, and read-only folders too")
    func removalNeverFollowsSymlinks() throws {
        let scratch = TemporaryDirectory("remove")
        let outside = scratch.url.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: outside.appendingPathComponent("precious"))
        let tree = scratch.url.appendingPathComponent("tree")
        try FileManager.default.createDirectory(
            at: tree.appendingPathComponent("ro/deeper"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: tree.appendingPathComponent("ro/deeper/file"))
        try FileManager.default.createSymbolicLink(
            at: tree.appendingPathComponent("link"), withDestinationURL: outside)
        chmod(tree.appendingPathComponent("ro/deeper").path, 0o555)
        chmod(tree.appendingPathComponent("ro").path, 0o555)
        try FileTree.remove(tree)
        #expect(!FileOps.exists(tree))
        #expect(try Data(contentsOf: outside.appendingPathComponent("precious")) == Data("keep".utf8))
        try FileTree.remove(tree)
    }
}
