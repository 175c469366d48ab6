import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("The entry sink: what sources write, framed for tar and listed for the manifest")
struct BundleEntrySinkTests {
    /// A sink that collects the framed bytes.
    final class Collector {
        var bytes: [UInt8] = []
        lazy var sink = BundleEntrySink(bundleTime: Date(timeIntervalSince1970: 1_700_000_000)) { chunk in
            self.bytes += chunk
        }
    }

    @Test("directories, a long-named file, a symlink and bytes: tar extracts them; the entries list each with its hash")
    func writesEveryKind() throws {
        let scratch = TemporaryDirectory("sink")
        let long = "files/" + String(repeating: "n", count: 150) + ".bin"
        let content = Data((0..<70_000).map { UInt8($0 % 251) })
        let input = scratch.url.appendingPathComponent("input.bin")
        try content.write(to: input)
        let collector = Collector()
        let sink = collector.sink
        try sink.addDirectory("files", mode: 0o750, mtime: 1_600_000_000)
        try sink.addFile(input, as: long, mode: 0o600, mtime: 1_600_000_001)
        try sink.addSymlink("files/latest", target: long)
        try sink.addBytes(Array("note\n".utf8), as: "note.txt")
        try sink.finish(manifest: Array("{}\n".utf8))
        let archive = scratch.url.appendingPathComponent("out.tar")
        try Data(collector.bytes).write(to: archive)

        let out = scratch.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xpf", archive.path, "-C", out.path])
        #expect(tar.status == 0, "\(tar.stderr)")
        #expect(try Data(contentsOf: out.appendingPathComponent(long)) == content)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: out.appendingPathComponent("files/latest").path)
                == long)
        #expect(try String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8) == "{}\n")

        #expect(sink.entries.map(\.path) == ["files", long, "files/latest", "note.txt"])
        #expect(sink.entries.map(\.type) == [.directory, .file, .symlink, .file])
        #expect(sink.entries.map(\.mode) == [0o750, 0o600, 0o777, 0o644])
        #expect(sink.entries.map(\.mtime) == [1_600_000_000, 1_600_000_001, 1_700_000_000, 1_700_000_000])
        #expect(sink.entries[1].sha256 == SHA256.hash(data: content).hexString && sink.entries[1].size == 70_000)
        #expect(sink.entries[2].target == long && sink.entries[0].sha256 == nil)
    }

    @Test("a path written twice, or one with .. or an absolute path, is refused before anything is framed")
    func refusesBadPaths() throws {
        let collector = Collector()
        let sink = collector.sink
        try sink.addBytes([1], as: "a")
        let framed = collector.bytes.count
        for path in ["a", "../a", "/etc/a", "b/../a"] {
            #expect(throws: BackupError.self) { try sink.addBytes([2], as: path) }
        }
        #expect(collector.bytes.count == framed)
    }
}
