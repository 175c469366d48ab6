import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

/// The moments between looking at an entry and reading it, hit on purpose: the test changes the
/// tree from inside the walk (the visit, or the progress of a file being read), so each race is
/// met every run instead of by chance.
@Suite("Directory sources under change: swaps, shrinking and growing files, hit at the exact moment")
struct DirectoryRaceTests {
    /// Walks `root` into a fresh sink through the real walker and bundler; `during` runs before
    /// each entry is written, `progress` after each chunk of a file. Returns the tar bytes, the
    /// listed entries and the warnings.
    static func bundle(
        _ root: URL, during: (DirectoryWalker.Found) -> Void = { _ in }, progress: (Int64) -> Void = { _ in }
    ) throws -> (tar: [UInt8], entries: [Manifest.Entry], warnings: [String]) {
        var bytes: [UInt8] = []
        let sink = BundleEntrySink(bundleTime: Date(timeIntervalSince1970: 1_700_000_000), chunkSize: 64 * 1024) {
            bytes += $0
        }
        var bundler = TreeBundler(sink: sink, prefix: "files/t")
        let directory = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(directory) }
        try DirectoryWalker().walk(root: directory) { (found) throws(BackupError) in
            during(found)
            try bundler.add(found, progress: progress)
        } warn: { path, reason in
            bundler.warn(relativePath: path, reason)
        }
        try sink.finish(manifest: Array("{}\n".utf8))
        return (bytes, sink.entries, bundler.warnings)
    }

    /// What GNU tar extracts from `tar` (plain, not compressed).
    static func untar(_ tar: [UInt8], in scratch: TemporaryDirectory) throws -> URL {
        let file = scratch.url.appendingPathComponent("out-\(UUID().uuidString.prefix(6)).tar")
        try Data(tar).write(to: file)
        let out = scratch.url.appendingPathComponent("out-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let result = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xpf", file.path, "-C", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        return out
    }

    @Test(
        "a folder swapped for a symlink to outside the tree after its parent was listed is stored as that symlink, never followed"
    )
    func folderSwappedForSymlink() throws {
        let scratch = TemporaryDirectory("dir-race-folder")
        let root = scratch.url.appendingPathComponent("tree")
        let outside = scratch.url.appendingPathComponent("outside")
        try DirectoryTree.file("a.txt", in: root, bytes: Data("a".utf8))
        try DirectoryTree.file("b/inside.txt", in: root, bytes: Data("inside".utf8))
        try DirectoryTree.file("stolen.txt", in: outside, bytes: Data("stolen".utf8))
        let (_, entries, warnings) = try Self.bundle(root) { found in
            // `b` was listed as a folder; swap it before the walk reaches it.
            if found.relativePath == "a.txt" {
                #expect(
                    rename(root.appendingPathComponent("b").path, scratch.url.appendingPathComponent("b-moved").path)
                        == 0)
                #expect(symlink(outside.path, root.appendingPathComponent("b").path) == 0)
            }
        }
        #expect(entries.map(\.path) == ["files/t/a.txt", "files/t/b"])
        #expect(entries[1].type == .symlink && entries[1].target == outside.path)
        #expect(warnings == [])
    }

    @Test(
        "a file swapped for a symlink between being looked at and being opened is skipped with a warning (O_NOFOLLOW)")
    func fileSwappedForSymlink() throws {
        let scratch = TemporaryDirectory("dir-race-file")
        let root = scratch.url.appendingPathComponent("tree")
        try DirectoryTree.file("secret-link.txt", in: root, bytes: Data("plain".utf8))
        let (_, entries, warnings) = try Self.bundle(root) { found in
            // fstatat said "regular file"; make it a symlink to /etc/passwd before it is opened.
            let path = root.appendingPathComponent(found.relativePath).path
            #expect(unlink(path) == 0 && symlink("/etc/passwd", path) == 0)
        }
        #expect(entries.isEmpty)
        #expect(
            warnings == [
                "files/t/secret-link.txt: it was replaced by a symlink while the directory was read; skipped"
            ])
    }

    @Test(
        "a file cut short while it is read is padded to its announced size, then read again whole; tar gets the second copy"
    )
    func shrinkingFile() throws {
        let scratch = TemporaryDirectory("dir-race-shrink")
        let root = scratch.url.appendingPathComponent("tree")
        let content = Data((0..<300_000).map { UInt8($0 % 253) })
        try DirectoryTree.file("big.bin", in: root, bytes: content)
        let file = root.appendingPathComponent("big.bin")
        var cut = false
        let (tar, entries, warnings) = try Self.bundle(root) { _ in
        } progress: { _ in
            // After the first 64 KiB of the first copy, the file loses everything past 100,000 bytes.
            if !cut {
                cut = true
                #expect(truncate(file.path, 100_000) == 0)
            }
        }
        #expect(warnings == [])
        #expect(entries.map(\.path) == ["files/t/big.bin"])
        #expect(entries[0].size == 100_000)
        #expect(entries[0].sha256 == SHA256.hash(data: content.prefix(100_000)).hexString)
        let out = try Self.untar(tar, in: scratch)
        #expect(try Data(contentsOf: out.appendingPathComponent("files/t/big.bin")) == content.prefix(100_000))
    }

    @Test(
        "a file that keeps growing through both reads is kept with a warning; one that grows once is read again quietly"
    )
    func growingFile() throws {
        let scratch = TemporaryDirectory("dir-race-grow")
        let root = scratch.url.appendingPathComponent("tree")
        try DirectoryTree.file("once.log", in: root, bytes: Data(repeating: 0x61, count: 200_000))
        try DirectoryTree.file("steady.log", in: root, bytes: Data(repeating: 0x62, count: 200_000))
        try DirectoryTree.file("always.log", in: root, bytes: Data(repeating: 0x63, count: 200_000))
        var current = ""
        var grownOnce = false
        let (tar, entries, warnings) = try Self.bundle(root) { found in
            current = found.relativePath
        } progress: { _ in
            guard current == "always.log" || (current == "once.log" && !grownOnce) else { return }
            if current == "once.log" { grownOnce = true }
            let descriptor = open(root.appendingPathComponent(current).path, O_WRONLY | O_APPEND | O_CLOEXEC)
            #expect(descriptor >= 0 && write(descriptor, "more\n", 5) == 5)
            close(descriptor)
        }
        #expect(warnings == ["files/t/always.log: changed while it was read; the copy may be inconsistent"])
        #expect(entries.map(\.path) == ["files/t/always.log", "files/t/once.log", "files/t/steady.log"])
        #expect(entries[1].size == 200_005 && entries[2].size == 200_000)
        let out = try Self.untar(tar, in: scratch)
        for entry in entries {
            let data = try Data(contentsOf: out.appendingPathComponent(entry.path))
            #expect(SHA256.hash(data: data).hexString == entry.sha256, "\(entry.path)")
            #expect(Int64(data.count) == entry.size)
        }
    }
}
