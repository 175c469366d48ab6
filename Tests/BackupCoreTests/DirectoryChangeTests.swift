import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Files that change while they are read: read again once, then kept with a warning")
struct DirectoryChangeTests {
    @Test("a file a real process keeps appending to is written twice, warned about, and the bundle verifies")
    func growingFile() throws {
        let scratch = TemporaryDirectory("dir-growing")
        let root = scratch.url.appendingPathComponent("logs")
        // Large enough that reading it takes far longer than one append of the writer below.
        try DirectoryTree.file("app.log", in: root, bytes: Data(repeating: 0x2e, count: 48 * 1024 * 1024))
        try DirectoryTree.file("steady.txt", in: root, bytes: Data("steady\n".utf8))
        let log = root.appendingPathComponent("app.log")
        let writer = try ChildProcess(executablePath: "/bin/sh").start([
            "-c", "while :; do echo x >> '\(log.path)'; done",
        ])
        defer {
            writer.signal(SIGKILL)
            _ = writer.wait()
        }
        #expect(waitUntil(timeout: 30) { (FileOps.size(of: log) ?? 0) > 48 * 1024 * 1024 })

        let (bundle, manifest) = try DirectoryTree.bundle(
            DirectorySource.sources(for: [root.path], exclude: []), in: scratch)
        writer.signal(SIGKILL)

        #expect(
            manifest.sources.first?.directory?.warnings == [
                "files/logs/app.log: changed while it was read; the copy may be inconsistent"
            ])
        #expect(manifest.entries.filter { $0.path == "files/logs/app.log" }.count == 1)
        let listing = try ChildProcess(executablePath: "/usr/bin/tar").run(["-tzf", bundle.path])
        #expect(listing.stdout.split(separator: "\n").filter { $0 == "files/logs/app.log" }.count == 2)
        #expect(try DirectoryTree.verify(bundle, in: scratch).problems == [])

        // GNU tar keeps the last copy, and its hash is the one the manifest lists.
        let out = try DirectoryTree.untar(bundle, in: scratch)
        let extracted = try Data(contentsOf: out.appendingPathComponent("files/logs/app.log"))
        let listed = try #require(manifest.entries.first { $0.path == "files/logs/app.log" })
        #expect(SHA256.hash(data: extracted).hexString == listed.sha256)
        #expect(Int64(extracted.count) == listed.size && listed.size > 48 * 1024 * 1024)
    }

    @Test(
        "the sink lets a file under files/ be written once more, listed in the first copy's place; nothing else repeats"
    )
    func sinkSupersede() throws {
        var bytes: [UInt8] = []
        let sink = BundleEntrySink(bundleTime: Date(timeIntervalSince1970: 1_700_000_000)) { bytes += $0 }
        func add(_ path: String, _ text: String, superseding: Bool) throws {
            let data = Array(text.utf8)
            try sink.addFile(size: Int64(data.count), as: path, superseding: superseding) { buffer, _ in
                buffer.copyBytes(from: data)
                return data.count
            }
        }
        try sink.addDirectory("files/x")
        try add("files/x/a", "one", superseding: false)
        try add("files/x/b", "bee", superseding: false)
        try add("files/x/a", "two!", superseding: true)
        #expect(sink.entries.map(\.path) == ["files/x", "files/x/a", "files/x/b"])
        #expect(sink.entries[1].sha256 == SHA256.hash(data: Array("two!".utf8)).hexString && sink.entries[1].size == 4)

        let framed = bytes.count
        #expect(throws: BackupError.self) { try add("files/x/a", "three", superseding: true) }
        #expect(throws: BackupError.self) { try add("files/x/b", "again", superseding: false) }
        #expect(throws: BackupError.self) { try add("files/x/c", "new", superseding: true) }
        #expect(throws: BackupError.self) { try add("files/x", "dir", superseding: true) }
        try sink.addBytes([1], as: "top.txt")
        let afterTop = bytes.count
        #expect(throws: BackupError.self) { try add("top.txt", "top", superseding: true) }
        #expect(bytes.count == afterTop && afterTop > framed)
    }
}
