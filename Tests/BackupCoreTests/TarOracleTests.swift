import Foundation
import TestSupport
import Testing

@testable import BackupCore

/// GNU tar as the oracle: what we write, `tar` lists and extracts whole; what `tar` writes (pax
/// and GNU long names), we read whole.
@Suite("Tar against the system's tar")
struct TarOracleTests {
    static var tar: ChildProcess { ChildProcess(executablePath: "/usr/bin/tar") }
    static let longDirectory = "deep/" + String(repeating: "a-rather-long-directory-name-", count: 4)
    static let longFile = longDirectory + "/" + String(repeating: "ünïcode-file-name-", count: 8) + ".txt"
    static let longTarget = String(repeating: "../", count: 2) + String(repeating: "target-", count: 20)

    /// `[mode, mtime]` of a file, as `stat` gives them.
    static func attributes(_ url: URL) throws -> [Int64] {
        let values = try FileManager.default.attributesOfItem(atPath: url.path)
        let mode = (values[.posixPermissions] as? NSNumber)?.int64Value ?? -1
        let mtime = Int64((values[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)
        return [mode, mtime]
    }

    @Test("our archive with long names, modes, directories and symlinks is listed and extracted whole by tar")
    func tarReadsOurs() throws {
        let scratch = TemporaryDirectory("tar-oracle-ours")
        let content = Array("hello from a long name\n".utf8)
        let script = Array("#!/bin/sh\necho hi\n".utf8)
        let archive = TarTests.archive([
            (TarEntry(path: "deep", type: .directory, mode: 0o750, mtime: 1_600_000_000), []),
            (TarEntry(path: Self.longDirectory, type: .directory, mode: 0o700, mtime: 1_600_000_001), []),
            (TarEntry(path: Self.longFile, size: Int64(content.count), mode: 0o640, mtime: 1_600_000_002), content),
            (TarEntry(path: "run.sh", size: Int64(script.count), mode: 0o755, mtime: 1_600_000_003), script),
            (
                TarEntry(
                    path: "deep/link", type: .symlink, mode: 0o777, mtime: 1_600_000_004, linkTarget: Self.longTarget),
                []
            ),
        ])
        let file = scratch.url.appendingPathComponent("ours.tar")
        try Data(archive).write(to: file)

        let listed = try Self.tar.run(["-tf", file.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(
            listed.stdout.split(separator: "\n").map(String.init)
                == ["deep/", Self.longDirectory + "/", Self.longFile, "run.sh", "deep/link"])

        let out = scratch.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let extracted = try Self.tar.run(["-xpf", file.path, "-C", out.path])
        #expect(extracted.status == 0, "\(extracted.stderr)")
        #expect(Array(try Data(contentsOf: out.appendingPathComponent(Self.longFile))) == content)
        #expect(try Self.attributes(out.appendingPathComponent(Self.longFile)) == [0o640, 1_600_000_002])
        #expect(try Self.attributes(out.appendingPathComponent("run.sh")) == [0o755, 1_600_000_003])
        #expect(try Self.attributes(out.appendingPathComponent(Self.longDirectory)) == [0o700, 1_600_000_001])
        #expect(try Self.attributes(out.appendingPathComponent("deep"))[0] == 0o750)
        let link = try FileManager.default.destinationOfSymbolicLink(
            atPath: out.appendingPathComponent("deep/link").path)
        #expect(link == Self.longTarget)
    }

    /// A tree with a long path, a symlink with a long target, an executable, a private directory.
    static func makeTree(in root: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent(longDirectory), withIntermediateDirectories: true)
        try Data("long\n".utf8).write(to: root.appendingPathComponent(longFile))
        try manager.setAttributes([.posixPermissions: 0o604], ofItemAtPath: root.appendingPathComponent(longFile).path)
        try Data("#!/bin/sh\n".utf8).write(to: root.appendingPathComponent("run.sh"))
        try manager.setAttributes([.posixPermissions: 0o751], ofItemAtPath: root.appendingPathComponent("run.sh").path)
        try manager.createSymbolicLink(
            atPath: root.appendingPathComponent("deep/link").path, withDestinationPath: longTarget)
        try manager.setAttributes([.posixPermissions: 0o710], ofItemAtPath: root.appendingPathComponent("deep").path)
    }

    @Test("archives tar writes (pax, and GNU long names) are read whole", arguments: ["pax", "gnu"])
    func weReadTars(_ format: String) throws {
        let scratch = TemporaryDirectory("tar-oracle-theirs")
        let tree = scratch.url.appendingPathComponent("tree")
        try Self.makeTree(in: tree)
        let file = scratch.url.appendingPathComponent("theirs.tar")
        let made = try Self.tar.run(["--format=\(format)", "-cf", file.path, "-C", tree.path, "deep", "run.sh"])
        #expect(made.status == 0, "\(made.stderr)")

        let input = try InputFile(reading: file)
        var reader = TarReader { (buffer) throws(BackupError) in try input.read(into: buffer) }
        var seen: [String: (TarEntry, [UInt8])] = [:]
        while let entry = try reader.nextEntry() {
            seen[entry.path] = (entry, try reader.readData(size: Int(entry.size)))
        }
        let long = try #require(seen[Self.longFile])
        #expect(long.0.type == .file && long.0.mode == 0o604 && long.1 == Array("long\n".utf8))
        #expect(seen["run.sh"]?.0.mode == 0o751)
        #expect(seen["deep"]?.0.type == .directory && seen["deep"]?.0.mode == 0o710)
        #expect(seen[Self.longDirectory]?.0.type == .directory)
        let link = try #require(seen["deep/link"])
        #expect(link.0.type == .symlink && link.0.linkTarget == Self.longTarget)
        let mtime = try Self.attributes(tree.appendingPathComponent("run.sh"))[1]
        #expect(seen["run.sh"]?.0.mtime == mtime)
    }

    @Test("tar archives with .. components or absolute paths are refused", arguments: ["../escape", "/tmp/escape"])
    func traversalFromTarRefused(_ member: String) throws {
        let scratch = TemporaryDirectory("tar-oracle-slip")
        let inside = scratch.url.appendingPathComponent("inside")
        try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: scratch.url.appendingPathComponent("escape"))
        let file = scratch.url.appendingPathComponent("slip.tar")
        let name = member.hasPrefix("/") ? scratch.url.appendingPathComponent("escape").path : member
        let made = try Self.tar.run(["-P", "-cf", file.path, "-C", inside.path, name])
        #expect(made.status == 0, "\(made.stderr)")
        let input = try InputFile(reading: file)
        var reader = TarReader { (buffer) throws(BackupError) in try input.read(into: buffer) }
        #expect(throws: BackupError.self) {
            while try reader.nextEntry() != nil {}
        }
    }
}
