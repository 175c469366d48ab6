import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup CLI, as a real process")
struct CLITests {
    let backup = try! ChildProcess(product: "backup")

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    @Test("create makes a bundle that tar, sha256sum and sqlite3 accept; list and show find it")
    func createListShow() throws {
        let directory = TemporaryDirectory("cli-create")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let created = try backup.run(["create", "--data-dir", directory.path, "--json", "--note", "nightly"])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try json(BackupInfo.self, created)
        #expect(info.status == .completed)
        #expect(info.note == "nightly")

        let backups = directory.url.appendingPathComponent("backups")
        let sha = Process.run("/usr/bin/sha256sum", ["-c", info.filename + ".sha256"], in: backups)
        #expect(sha == 0)
        let extract = directory.url.appendingPathComponent("x")
        try FileManager.default.createDirectory(at: extract, withIntermediateDirectories: true)
        #expect(
            Process.run("/bin/tar", ["-xzf", backups.appendingPathComponent(info.filename).path], in: extract) == 0)
        #expect(
            try TestDB.strings(extract.appendingPathComponent("database.sqlite").path, "PRAGMA integrity_check") == [
                "ok"
            ])

        // Global options before the subcommand work as well as after it.
        let listed = try backup.run(["--data-dir", directory.path, "--json", "list"])
        #expect(try json([BackupInfo].self, listed).map(\.id) == [info.id])
        let shown = try backup.run(["show", info.id, "--json"], environment: ["BACKUP_DATA_DIR": directory.path])
        #expect(try json(BackupInfo.self, shown) == info)
        let table = try backup.run(["list", "--data-dir", directory.path])
        #expect(table.stdout.contains(info.id))
        #expect(table.stdout.contains("completed"))
        #expect(!table.stdout.contains("\u{1B}["), "no colour when not on a terminal")
    }

    @Test("verify exits 0 on a good bundle and 3 on one with a single flipped byte")
    func verifyExitCodes() throws {
        let directory = TemporaryDirectory("cli-verify")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        #expect(try backup.run(["verify", info.id, "--data-dir", directory.path]).status == 0)

        let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
        var bytes = try Data(contentsOf: bundle)
        bytes[bytes.count / 3] ^= 0x10
        try bytes.write(to: bundle)
        let failed = try backup.run(["verify", info.id, "--data-dir", directory.path])
        #expect(failed.status == 3)
        #expect(failed.stdout.contains("SHA-256"))
        #expect(try backup.run(["verify", "--all", "--data-dir", directory.path]).status == 3)
    }

    @Test("exit codes: 2 for usage, 1 for an unknown backup, 4 while another job holds the lock")
    func exitCodes() throws {
        let directory = TemporaryDirectory("cli-exit")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        #expect(try backup.run(["frobnicate"]).status == 2)
        #expect(try backup.run(["list", "--limit", "0", "--data-dir", directory.path]).status == 2)
        #expect(try backup.run(["show", "../../etc/passwd", "--data-dir", directory.path]).status == 2)
        #expect(try backup.run(["show", "0123456789abcdef", "--data-dir", directory.path]).status == 1)
        #expect(try backup.run(["delete", "0123456789abcdef", "--data-dir", directory.path]).status == 1)

        try directory.dataDirectory.prepare()
        let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
        let busy = try backup.run(["create", "--data-dir", directory.path])
        #expect(busy.status == 4)
        #expect(busy.stderr.contains("another backup"))
        lock.release()
        #expect(try backup.run(["create", "--data-dir", directory.path]).status == 0)
    }

    @Test("delete needs --yes without a terminal, then removes bundle, sidecar and record")
    func deleteNeedsConfirmation() throws {
        let directory = TemporaryDirectory("cli-delete")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        #expect(try backup.run(["delete", info.id, "--data-dir", directory.path]).status == 2)
        #expect(directory.backupFiles().count == 2)
        #expect(try backup.run(["delete", info.id, "--yes", "--data-dir", directory.path]).status == 0)
        #expect(directory.backupFiles().isEmpty)
        #expect(try backup.run(["show", info.id, "--data-dir", directory.path]).status == 1)
    }

    @Test("stats counts the backups and their bytes")
    func stats() throws {
        let directory = TemporaryDirectory("cli-stats")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        let stats = try json(BackupStats.self, try backup.run(["stats", "--json", "--data-dir", directory.path]))
        #expect(stats.count == 1)
        #expect(stats.totalBytes == info.sizeBytes)
        #expect(stats.lastSuccessAt != nil)
    }
}

extension Process {
    /// Runs a system tool to the end and returns its exit status.
    static func run(_ executable: String, _ arguments: [String], in directory: URL) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
