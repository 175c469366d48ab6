import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Verifying files bundles: every file's hash and the tree's shape")
struct DirectoryVerifyTests {
    /// A tar archive written through a real sink, gzipped by `gzip`: `build` writes entries and
    /// returns the manifest to end it with.
    static func forge(
        in scratch: TemporaryDirectory, _ build: (BundleEntrySink) throws -> Manifest
    ) throws -> URL {
        var bytes: [UInt8] = []
        let sink = BundleEntrySink(bundleTime: Date(timeIntervalSince1970: 1_700_000_000)) { chunk in bytes += chunk }
        let manifest = try build(sink)
        try sink.finish(manifest: try manifest.encoded())
        let tar = scratch.url.appendingPathComponent("forged-\(UUID().uuidString.prefix(6)).tar")
        try Data(bytes).write(to: tar)
        let gzip = try ChildProcess(executablePath: "/bin/gzip").run(["-1", tar.path])
        #expect(gzip.status == 0, "\(gzip.stderr)")
        return URL(fileURLWithPath: tar.path + ".gz")
    }

    /// A small tree, its source, and a manifest template.
    static func tree(in scratch: TemporaryDirectory) throws -> (DirectorySource, Manifest) {
        let root = scratch.url.appendingPathComponent("tree-\(UUID().uuidString.prefix(6))/media")
        try DirectoryTree.file("a.txt", in: root, bytes: Data("first file, marker-AAAA\n".utf8))
        try DirectoryTree.file("sub/b.txt", in: root, bytes: Data("second file\n".utf8))
        try DirectoryTree.symlink("sub/link", in: root, to: "../a.txt")
        let source = DirectorySource.sources(for: [root.path], exclude: [])[0]
        return (
            source, Manifest(id: BackupID.make(), type: .manual, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        )
    }

    /// Writes the source, then `extra`, and a manifest of what the source wrote (changed by `edit`).
    static func bundle(
        in scratch: TemporaryDirectory, extra: (BundleEntrySink) throws -> Void = { _ in },
        edit: (inout Manifest) -> Void = { _ in }
    ) throws -> URL {
        let (source, template) = try tree(in: scratch)
        return try forge(in: scratch) { sink in
            var manifest = template
            manifest.sources = [try source.write(into: sink) { _ in }]
            manifest.entries = sink.entries
            try extra(sink)
            edit(&manifest)
            return manifest
        }
    }

    static func problems(_ bundle: URL, in scratch: TemporaryDirectory) throws -> [String] {
        try DirectoryTree.verify(bundle, in: scratch).problems
    }

    @Test("an honest forged bundle verifies (the forge itself is sound)")
    func honest() throws {
        let scratch = TemporaryDirectory("dir-verify-ok")
        #expect(try Self.problems(Self.bundle(in: scratch), in: scratch) == [])
    }

    @Test("a changed byte in a file entry is caught by its SHA-256")
    func changedByte() throws {
        let scratch = TemporaryDirectory("dir-verify-byte")
        let (source, template) = try Self.tree(in: scratch)
        var tarBytes: [UInt8] = []
        let sink = BundleEntrySink(bundleTime: template.createdAt) { chunk in tarBytes += chunk }
        var manifest = template
        manifest.sources = [try source.write(into: sink) { _ in }]
        manifest.entries = sink.entries
        try sink.finish(manifest: try manifest.encoded())
        // Flip one byte of a.txt's data inside the archive, then gzip it.
        let marker = Array("marker-AAAA".utf8)
        let at = try #require(
            (0...(tarBytes.count - marker.count)).first { tarBytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        tarBytes[at] ^= 0x20
        let tar = scratch.url.appendingPathComponent("flipped.tar")
        try Data(tarBytes).write(to: tar)
        #expect(try ChildProcess(executablePath: "/bin/gzip").run(["-1", tar.path]).status == 0)
        let problems = try Self.problems(URL(fileURLWithPath: tar.path + ".gz"), in: scratch)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("entry files/media/a.txt SHA-256 is ") == true, "\(problems)")
    }

    @Test("a file entry the manifest does not list is refused")
    func unlistedFile() throws {
        let scratch = TemporaryDirectory("dir-verify-unlisted")
        let bundle = try Self.bundle(in: scratch) { sink in
            try sink.addBytes(Array("smuggled".utf8), as: "files/media/sub/extra.txt")
        }
        #expect(
            try Self.problems(bundle, in: scratch) == ["entry files/media/sub/extra.txt is not listed in the manifest"])
    }

    @Test("entries under files/ that belong to no listed source, and a source without its root, are refused")
    func shape() throws {
        let scratch = TemporaryDirectory("dir-verify-shape")
        // Listed in the manifest, but under a name no source has.
        let stray = try Self.bundle(in: scratch) { sink in
            try sink.addBytes(Array("x".utf8), as: "files/other/x.txt")
        } edit: { manifest in
            manifest.entries = Self.listing(manifest.entries, plus: "files/other/x.txt", bytes: Array("x".utf8))
        }
        #expect(
            try Self.problems(stray, in: scratch) == [
                "entry files/other/x.txt belongs to no directory source of the manifest",
                "entry files/other/x.txt comes before its folder (or the bundle has no entry for it)",
            ])

        // A second source listed whose root entry is not in the bundle.
        let rootless = try Self.bundle(
            in: scratch,
            edit: { manifest in
                manifest.sources.append(
                    Manifest.Source(kind: .directory, name: "ghost", directory: DirectoryFigures(path: "/srv/ghost")))
            })
        #expect(
            try Self.problems(rootless, in: scratch) == [
                "directory source ghost: its root entry files/ghost is missing"
            ])

        // A source renamed in the manifest leaves its entries without a source.
        let renamed = try Self.bundle(in: scratch, edit: { $0.sources[0].name = "../media" })
        #expect(
            try Self.problems(renamed, in: scratch) == [
                "entry files/media belongs to no directory source of the manifest"
            ])

        // A source whose path is relative.
        let relative = try Self.bundle(in: scratch, edit: { $0.sources[0].directory?.path = "media" })
        #expect(try Self.problems(relative, in: scratch) == ["directory source media has the relative path \"media\""])
    }

    @Test("a files-only bundle needs no database.sqlite, but a bundle with no source at all is refused")
    func sourcesRequired() throws {
        let scratch = TemporaryDirectory("dir-verify-sources")
        let none = try Self.forge(in: scratch) { _ in
            Manifest(id: BackupID.make(), type: .manual, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        }
        #expect(try Self.problems(none, in: scratch) == ["the manifest lists no source"])
        let listedSQLite = try Self.bundle(
            in: scratch,
            edit: { manifest in
                manifest.sources.append(
                    Manifest.Source(
                        kind: .sqlite, name: "database",
                        sqlite: SQLiteFigures(
                            path: "/x.db", sqliteVersion: "3", pageSize: 4096, pageCount: 1, userVersion: 0)))
            })
        #expect(try Self.problems(listedSQLite, in: scratch) == ["database.sqlite is missing"])
    }

    @Test(
        "a file written again (changed while read) verifies when the manifest lists the last copy; other repeats are refused"
    )
    func repeatedEntries() throws {
        let scratch = TemporaryDirectory("dir-verify-repeat")
        let again = Array("the second, longer copy of the file\n".utf8)
        let rewrite: (BundleEntrySink) throws -> Void = { sink in
            try sink.addFile(size: Int64(again.count), as: "files/media/a.txt", superseding: true) { buffer, _ in
                buffer.copyBytes(from: again)
                return again.count
            }
        }
        var firstCopy: Manifest.Entry?
        let good = try Self.forge(in: scratch) { sink in
            let (source, template) = try Self.tree(in: scratch)
            var manifest = template
            manifest.sources = [try source.write(into: sink) { _ in }]
            firstCopy = sink.entries.first { $0.path == "files/media/a.txt" }
            try rewrite(sink)
            manifest.entries = sink.entries
            return manifest
        }
        #expect(try Self.problems(good, in: scratch) == [])
        let listing = try ChildProcess(executablePath: "/usr/bin/tar").run(["-tzf", good.path])
        #expect(listing.stdout.split(separator: "\n").filter { $0 == "files/media/a.txt" }.count == 2)
        let out = try DirectoryTree.untar(good, in: scratch)
        #expect(try Array(Data(contentsOf: out.appendingPathComponent("files/media/a.txt"))) == again)

        // The manifest listing the first copy's hash: refused.
        let stale = try Self.forge(in: scratch) { sink in
            let (source, template) = try Self.tree(in: scratch)
            var manifest = template
            manifest.sources = [try source.write(into: sink) { _ in }]
            try rewrite(sink)
            manifest.entries = sink.entries.map { $0.path == "files/media/a.txt" ? firstCopy! : $0 }
            return manifest
        }
        #expect(try Self.problems(stale, in: scratch).contains { $0.hasPrefix("entry files/media/a.txt has ") })
    }

    /// `entries` and one more regular file listed as the sink would list it.
    static func listing(_ entries: [Manifest.Entry], plus path: String, bytes: [UInt8]) -> [Manifest.Entry] {
        entries + [
            Manifest.Entry(
                path: path, size: Int64(bytes.count), sha256: SHA256.hash(data: bytes).hexString, mode: 0o644,
                mtime: 1_700_000_000)
        ]
    }
}
