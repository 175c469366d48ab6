import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Directory sources: a tree beside the database, bundled under files/<name>/")
struct DirectorySourceTests {
    /// Nested and empty folders, a 150-byte name, Cyrillic names, an executable, a private file,
    /// a symlink inside the tree and one pointing at `/etc/passwd`, a hard link.
    static func makeTree(at root: URL) throws {
        try DirectoryTree.directory(".", in: root, mode: 0o755)
        try DirectoryTree.file("a/b/c/deep.txt", in: root, bytes: Data("deep\n".utf8), mtime: 1_600_000_000)
        try DirectoryTree.directory("a/b/c", in: root, mode: 0o700, mtime: 1_600_000_100)
        try DirectoryTree.directory("empty", in: root, mode: 0o750, mtime: 1_600_000_200)
        let long = String(repeating: "n", count: 146) + ".bin"
        try DirectoryTree.file(
            long, in: root, bytes: Data((0..<70_000).map { UInt8($0 % 251) }), mtime: 1_600_000_300)
        try DirectoryTree.file(
            "Фотографии/отчёт за май.txt", in: root, bytes: Data("отчёт\n".utf8), mtime: 1_600_000_400)
        try DirectoryTree.file("bin/run.sh", in: root, bytes: Data("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try DirectoryTree.file("private.key", in: root, bytes: Data("secret\n".utf8), mode: 0o600)
        try DirectoryTree.file("empty-file", in: root)
        try DirectoryTree.symlink("latest", in: root, to: "a/b/c/deep.txt")
        try DirectoryTree.symlink("passwd", in: root, to: "/etc/passwd")
        // A hard link comes back as a second, separate file with the same bytes.
        #expect(
            link(root.appendingPathComponent("a/b/c/deep.txt").path, root.appendingPathComponent("hard.txt").path) == 0)
    }

    @Test("GNU tar -x of a files bundle gives back the same tree: bytes, modes, mtimes, symlink targets")
    func treeRoundTrip() throws {
        let scratch = TemporaryDirectory("dir-roundtrip")
        let root = scratch.url.appendingPathComponent("uploads")
        try Self.makeTree(at: root)
        let long = String(repeating: "n", count: 146) + ".bin"
        #expect(long.utf8.count == 150)

        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [root.path], exclude: []), in: scratch)
        #expect(
            manifest.sources == [
                Manifest.Source(
                    kind: .directory, name: "uploads", directory: DirectoryFigures(path: root.path, warnings: []))
            ])
        #expect(manifest.entries.first?.path == "files/uploads")
        #expect(!manifest.entries.contains { $0.path == SQLiteSource.entryName })

        let report = try DirectoryTree.verify(bundle, in: scratch)
        #expect(report.problems == [])

        let out = try DirectoryTree.untar(bundle, in: scratch)
        let original = try DirectoryTree.read(root)
        let extracted = try DirectoryTree.read(out.appendingPathComponent("files/uploads"))
        #expect(extracted == original)
        #expect(original.count == 16)
        #expect(extracted["passwd"] == .symlink(target: "/etc/passwd"))
        #expect(extracted["bin/run.sh"].map { if case .file(0o755, _, _) = $0 { true } else { false } } == true)

        // Every file's SHA-256 in the manifest is sha256sum's.
        let files = manifest.entries.filter { $0.type == .file }
        #expect(files.count == 7)
        for entry in files {
            let relative = String(entry.path.dropFirst("files/uploads/".count))
            let sum = try ChildProcess(executablePath: "/usr/bin/sha256sum").run([
                root.appendingPathComponent(relative).path
            ])
            #expect(sum.stdout.split(separator: " ").first.map(String.init) == entry.sha256, "\(entry.path)")
        }
        let passwd = try #require(manifest.entries.first { $0.path == "files/uploads/passwd" })
        #expect(passwd.type == .symlink && passwd.target == "/etc/passwd" && passwd.size == 0 && passwd.sha256 == nil)
    }

    @Test("the manifest lists a directory source as kind, name, path and warnings, and reads it back")
    func manifestShape() throws {
        var manifest = Manifest(
            id: BackupID.make(), type: .manual, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        manifest.sources = [
            Manifest.Source(
                kind: .directory, name: "uploads",
                directory: DirectoryFigures(
                    path: "/srv/app/uploads", warnings: ["files/uploads/p: it is a FIFO; skipped"]))
        ]
        let bytes = try manifest.encoded()
        let json = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        let source = (json["sources"] as! [[String: Any]])[0]
        #expect(Set(source.keys) == ["kind", "name", "path", "warnings"])
        #expect(source["kind"] as? String == "directory" && source["path"] as? String == "/srv/app/uploads")
        #expect(source["warnings"] as? [String] == ["files/uploads/p: it is a FIFO; skipped"])
        #expect(try Manifest.decode(bytes) == manifest)
    }

    @Test("two directories get unique names, the SQLite source's name is never reused, and both bundle side by side")
    func uniqueNames() throws {
        let names = DirectorySource.sources(
            for: ["/a/uploads", "/b/uploads", "/srv/database", "/c/uploads-2", "/"], exclude: []
        ).map(\.name)
        #expect(names == ["uploads", "uploads-2", "database-2", "uploads-2-2", "root"])

        let scratch = TemporaryDirectory("dir-two")
        let first = scratch.url.appendingPathComponent("one/media")
        let second = scratch.url.appendingPathComponent("two/media")
        try DirectoryTree.file("a.txt", in: first, bytes: Data("1".utf8))
        try DirectoryTree.file("a.txt", in: second, bytes: Data("2".utf8))
        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [first.path, second.path], exclude: []), in: scratch)
        #expect(manifest.sources.map(\.name) == ["media", "media-2"])
        #expect(manifest.sources.map { $0.directory?.path } == [first.path, second.path])
        #expect(try DirectoryTree.verify(bundle, in: scratch).problems == [])
        let out = try DirectoryTree.untar(bundle, in: scratch)
        #expect(try String(contentsOf: out.appendingPathComponent("files/media-2/a.txt"), encoding: .utf8) == "2")
    }

    @Test("excluded files are left out and excluded folders not descended into; cache/** keeps the empty folder")
    func excludes() throws {
        let scratch = TemporaryDirectory("dir-exclude")
        let root = scratch.url.appendingPathComponent("app")
        for path in [
            "keep.txt", "x.tmp", "a/y.tmp", "a/keep.txt", ".DS_Store", "a/.DS_Store", "cache/c1", "cache/deep/c2",
            "a/cache/kept", "a/thumbs/t.jpg", "thumbs/t.jpg", "logs/today.log",
        ] {
            try DirectoryTree.file(path, in: root, bytes: Data(path.utf8))
        }
        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(
                for: [root.path], exclude: ["*.tmp", ".DS_Store", "cache/**", "**/thumbs/*", "/logs"]),
            in: scratch)
        #expect(
            manifest.entries.map(\.path) == [
                "files/app", "files/app/a", "files/app/a/cache", "files/app/a/cache/kept", "files/app/a/keep.txt",
                "files/app/a/thumbs", "files/app/cache", "files/app/keep.txt", "files/app/thumbs",
            ])
        #expect(manifest.sources.first?.directory?.warnings == [])
        #expect(try DirectoryTree.verify(bundle, in: scratch).problems == [])
        #expect(
            DirectorySource(root: root, name: "app", exclude: ["*.tmp", "cache/**"]).estimatedBytes()
                == Int64(
                    [
                        "keep.txt", "a/keep.txt", ".DS_Store", "a/.DS_Store", "a/cache/kept", "a/thumbs/t.jpg",
                        "thumbs/t.jpg", "logs/today.log",
                    ]
                    .reduce(0) { $0 + $1.utf8.count }))
    }

    @Test(
        "what cannot be taken is a warning in the manifest, never a silent skip: a FIFO, a socket, a bad name, an unreadable file"
    )
    func warnings() throws {
        let scratch = TemporaryDirectory("dir-warnings")
        let root = scratch.url.appendingPathComponent("data")
        try DirectoryTree.file("ok.txt", in: root, bytes: Data("ok".utf8))
        #expect(mkfifo(root.appendingPathComponent("pipe").path, 0o644) == 0)
        // A name that is not UTF-8, made with raw bytes.
        let badName = root.path + "/bad-\u{FF}"
        var raw = Array(root.path.utf8) + Array("/bad-".utf8) + [0xFF, 0]
        let created = raw.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                open($0, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            }
        }
        #expect(created >= 0, "\(badName)")
        close(created)
        // Root reads a chmod-000 file anyway: the check applies to everyone else.
        let isRoot = getuid() == 0
        try DirectoryTree.file("locked.txt", in: root, bytes: Data("x".utf8), mode: 0o000)

        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [root.path], exclude: []), in: scratch)
        let warnings = try #require(manifest.sources.first?.directory?.warnings)
        #expect(warnings.contains("files/data/pipe: it is a FIFO; skipped"))
        #expect(warnings.contains { $0.hasPrefix("files/data/bad-") && $0.hasSuffix("its name is not UTF-8; skipped") })
        if isRoot {
            #expect(warnings.count == 2)
            #expect(manifest.entries.contains { $0.path == "files/data/locked.txt" })
        } else {
            #expect(warnings.contains("files/data/locked.txt: permission denied; skipped"))
            #expect(!manifest.entries.contains { $0.path == "files/data/locked.txt" })
        }
        #expect(manifest.entries.contains { $0.path == "files/data/ok.txt" })
        #expect(!manifest.entries.contains { $0.path == "files/data/pipe" })
        #expect(try DirectoryTree.verify(bundle, in: scratch).problems == [])
    }

    @Test("a directory that cannot be opened fails the backup with source_unavailable, naming it")
    func missingRoot() throws {
        let scratch = TemporaryDirectory("dir-missing")
        let missing = scratch.url.appendingPathComponent("gone")
        let error = #expect(throws: BackupError.self) {
            _ = try DirectoryTree.bundle(DirectorySource.sources(for: [missing.path], exclude: []), in: scratch)
        }
        #expect(error?.code == "source_unavailable")
        #expect(error?.message.contains(missing.path) == true)
    }

    @Test(
        "one sparse file past 4 GiB streams through in constant memory, bundles and verifies (long variant)",
        .enabled(if: Intensity.isLong))
    func largeFile() throws {
        let scratch = TemporaryDirectory("dir-large")
        let root = scratch.url.appendingPathComponent("big")
        try DirectoryTree.file("head.txt", in: root, bytes: Data("head".utf8))
        let size: Int64 = 4 * 1024 * 1024 * 1024 + 12345
        let descriptor = open(root.appendingPathComponent("disk.img").path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0 && ftruncate(descriptor, off_t(size)) == 0)
        close(descriptor)
        func peak() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss * 1024
        }
        let before = peak()
        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [root.path], exclude: []), in: scratch)
        let report = try DirectoryTree.verify(bundle, in: scratch)
        #expect(report.problems == [])
        let entry = try #require(manifest.entries.first { $0.path == "files/big/disk.img" })
        #expect(entry.size == size)
        // Holding the file would take 4 GiB; streaming takes a few buffers.
        #expect(peak() - before < 512 * 1024 * 1024, "peak resident memory grew by \(peak() - before) bytes")
    }

    @Test("100,000 small files bundle and verify; the manifest holds them all")
    func hundredThousandFiles() throws {
        let scratch = TemporaryDirectory("dir-many")
        let tree = ScratchTree("dir-many")
        let root = tree.url.appendingPathComponent("many")
        for folder in 0..<100 {
            let directory = root.appendingPathComponent(String(format: "d%03d", folder))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in 0..<1000 {
                let path = directory.path + String(format: "/f%04d.txt", file)
                let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
                #expect(descriptor >= 0)
                let bytes = Array("\(folder)/\(file)\n".utf8)
                _ = write(descriptor, bytes, bytes.count)
                close(descriptor)
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [root.path], exclude: []), in: scratch)
        let written = clock.now
        #expect(manifest.entries.count == 1 + 100 + 100_000)
        let report = try DirectoryTree.verify(bundle, in: scratch)
        #expect(report.problems == [])
        #expect(report.manifest?.entries.count == 100_101)
        print("100,000 files: bundled in \(written - start), verified in \(clock.now - written)")
    }
}
