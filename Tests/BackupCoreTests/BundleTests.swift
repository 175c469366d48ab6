import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Bundles: write, verify, detect corruption")
struct BundleTests {
    /// A service on a fresh data directory with a small sample database, and one completed backup.
    static func backedUp(
        _ label: String, megabytes: Int = 2
    ) async throws -> (TemporaryDirectory, BackupService, BackupInfo) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: megabytes)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let info = try await service.createBackup(note: "test")
        return (directory, service, info)
    }

    @Test("a new bundle verifies, and its manifest describes the snapshot")
    func roundTrip() async throws {
        let (directory, service, info) = try await Self.backedUp("bundle-roundtrip")
        #expect(info.status == .completed)
        #expect(directory.backupFiles() == [info.filename, info.filename + ".sha256"])
        #expect(directory.temporaryFiles().isEmpty)
        let report = try await service.verify(id: info.id)
        #expect(report.isValid)
        #expect(report.bundleSHA256 == info.sha256)
        let manifest = try #require(report.manifest)
        #expect(manifest.id == info.id)
        #expect(manifest.type == .manual)
        #expect(manifest.formatVersion == 2)
        #expect(manifest.sources.map(\.kind) == [.sqlite] && manifest.sources.map(\.name) == ["database"])
        let sqlite = try #require(manifest.sqlite)
        #expect(sqlite.pageSize == 4096)
        #expect(sqlite.path == directory.dataDirectory.database.path)
        #expect(manifest.entries.map(\.path) == ["database.sqlite"])
        #expect(manifest.entries[0].size == Int64(sqlite.pageSize * sqlite.pageCount))
        #expect(manifest.entries[0].mode == 0o644 && manifest.entries[0].type == .file)
        #expect(manifest.entries[0].mtime == Int64(manifest.createdAt.timeIntervalSince1970))
    }

    @Test("the sidecar names the bundle and its SHA-256 in sha256sum's format")
    func sidecarFormat() async throws {
        let (directory, _, info) = try await Self.backedUp("bundle-sidecar")
        let sidecar = try String(
            contentsOf: directory.url.appendingPathComponent("backups/\(info.filename).sha256"), encoding: .utf8)
        #expect(sidecar == "\(info.sha256!)  \(info.filename)\n")
    }

    @Test("every kind of damage is a verification failure with a reason", arguments: Damage.allCases)
    func damageDetected(_ damage: Damage) async throws {
        let (directory, service, info) = try await Self.backedUp("bundle-damage")
        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        try damage.apply(to: bundle)
        let error = await #expect(throws: BackupError.self) { try await service.verify(id: info.id) }
        #expect(error?.code == "verification_failed")
        #expect(error?.message.contains(damage.expectedReason) == true, "message was: \(String(describing: error))")
        #expect(directory.temporaryFiles().isEmpty)
    }

    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedByte, truncated, appendedTail, emptyFile

        var testDescription: String { rawValue }

        var expectedReason: String {
            switch self {
            case .flippedByte, .emptyFile: "bundle SHA-256"
            case .truncated: "truncated"
            case .appendedTail: "follow the gzip stream"
            }
        }

        func apply(to url: URL) throws {
            var bytes = try Data(contentsOf: url)
            switch self {
            case .flippedByte: bytes[bytes.count / 2] ^= 0x01
            case .truncated: bytes = bytes.prefix(bytes.count - 100)
            case .appendedTail: bytes.append(contentsOf: Array("tail".utf8))
            case .emptyFile: bytes = Data()
            }
            try bytes.write(to: url)
        }
    }

    @Test("a verified bundle opens with tar and sha256sum, and its database passes sqlite3's integrity_check")
    func standardToolsAcceptBundle() async throws {
        let (directory, _, info) = try await Self.backedUp("bundle-tools")
        let backups = directory.url.appendingPathComponent("backups")
        #expect(try run("/usr/bin/sha256sum", ["-c", info.filename + ".sha256"], in: backups).status == 0)
        let extract = directory.url.appendingPathComponent("extract")
        try FileManager.default.createDirectory(at: extract, withIntermediateDirectories: true)
        #expect(
            try run("/bin/tar", ["-xzf", backups.appendingPathComponent(info.filename).path], in: extract).status == 0)
        let check = try run("/usr/bin/sqlite3", ["database.sqlite", "PRAGMA integrity_check"], in: extract)
        #expect(check.output == "ok\n")
        let manifest = try Data(contentsOf: extract.appendingPathComponent("manifest.json"))
        #expect(try JSONDecoder.backupManager().decode(Manifest.self, from: manifest).id == info.id)
    }

    func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
