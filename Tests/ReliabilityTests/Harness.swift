import Foundation
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

/// The real binaries and the checks every theme of the suite shares.
enum Harness {
    static var backup: ChildProcess { try! ChildProcess(product: "backup") }
    static let token = "live-test-token-0123456789"

    /// Runs `backup ARGUMENTS --data-dir DIR` to its end.
    static func cli(_ arguments: [String], _ directory: TemporaryDirectory) throws -> ChildProcess.Result {
        try backup.run(arguments + ["--data-dir", directory.path])
    }

    /// `backup create --json`, decoded.
    static func createBackup(_ directory: TemporaryDirectory, note: String? = nil) throws -> BackupInfo {
        let result = try cli(["create", "--json"] + (note.map { ["--note", $0] } ?? []), directory)
        guard result.status == 0 else { throw Failure("backup create failed: \(result.stderr)") }
        return try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(result.stdout.utf8))
    }

    /// A data directory with a sample database of `megabytes`.
    static func dataDirectory(_ label: String, megabytes: Int) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: megabytes)
        return directory
    }

    /// A bundle made in another data directory: its bytes and its id.
    static func foreignBundle(megabytes: Int = 2) async throws -> (bytes: Data, id: String) {
        let other = try dataDirectory("foreign", megabytes: megabytes)
        let info = try await BackupService(dataDirectory: other.dataDirectory).createBackup()
        return (try Data(contentsOf: other.url.appendingPathComponent("backups/\(info.filename)")), info.id)
    }

    /// What must hold in a data directory once the next process has started after any crash:
    /// the database passes `integrity_check`, the catalog opens, no record is `pending` or
    /// `running`, `.tmp/` is empty, every `completed` record's bundle exists and verifies (an
    /// incremental backup's every chunk read: `verify --read-data`), every bundle in `backups/`
    /// belongs to a completed record, and so does every index in `backups/repository/index/`,
    /// and every pack the catalog lists has its file. Empty when all hold. (Packs no index needs
    /// may still be there: garbage until the next prune.)
    static func problems(in directory: TemporaryDirectory) async throws -> [String] {
        var problems: [String] = []
        let check = try TestDB.strings(directory.dataDirectory.database.path, "PRAGMA integrity_check")
        if check != ["ok"] { problems.append("integrity_check: \(check)") }
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        defer { catalog.close() }
        for status in [BackupStatus.pending, .running] {
            let stuck = try catalog.records(status: status)
            if !stuck.isEmpty { problems.append("\(stuck.count) record(s) left \(status.rawValue)") }
        }
        if !directory.temporaryFiles().isEmpty { problems.append(".tmp/ holds \(directory.temporaryFiles())") }
        let completed = try catalog.records(status: .completed)
        let owned = Set(completed.flatMap { [$0.filename, $0.filename + ".sha256"] })
        for name in directory.backupFiles() where !owned.contains(name) {
            problems.append("\(name) belongs to no completed record")
        }
        problems += try repositoryProblems(in: directory.dataDirectory, completed: completed, catalog: catalog)
        let service = BackupService(dataDirectory: directory.dataDirectory, catalog: catalog)
        for record in completed {
            do {
                try await service.verify(id: record.id, readData: record.isInRepository)
            } catch {
                problems.append("completed backup \(record.id) does not verify: \(error.message)")
            }
        }
        return problems
    }

    /// What is wrong in the incremental repository (none when there is none): an index file that
    /// is no completed record's, a pack the catalog lists whose file is missing.
    static func repositoryProblems(
        in dataDirectory: DataDirectory, completed: [BackupRecord], catalog: Catalog
    ) throws -> [String] {
        let root = dataDirectory.repository
        var problems: [String] = []
        let indexes = root.appendingPathComponent(RepositoryLayout.indexFolder)
        let owned = Set(completed.filter(\.isInRepository).map(\.filename))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: indexes.path)) ?? []
        where !owned.contains(name) {
            problems.append("repository index \(name) belongs to no completed record")
        }
        for pack in try catalog.repositoryPacks() {
            let files = [false, true].map {
                root.appendingPathComponent(RepositoryLayout.pack(pack.name, encrypted: $0))
            }
            if !files.contains(where: { FileManager.default.fileExists(atPath: $0.path) }) {
                problems.append("pack \(pack.name) is listed but has no file")
            }
        }
        return problems
    }

    /// What a refused bundle may still change in a data directory: `.tmp/` and the catalog
    /// (which records the failed verification or restore).
    static let changedByRefusals: Set<String> = [
        "backups/.tmp", "backups/catalog.sqlite-wal", "backups/catalog.sqlite-shm", "backups/catalog.sqlite",
    ]

    /// Everything under `root` except `.tmp/`, with sizes and modification times: what a
    /// refused bundle must leave untouched.
    static func tree(_ root: URL, excluding excluded: Set<String> = ["backups/.tmp"]) -> [String: String] {
        var entries: [String: String] = [:]
        let base = root.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return entries }
        while let relative = walker.nextObject() as? String {
            if excluded.contains(where: { relative == $0 || relative.hasPrefix($0 + "/") }) { continue }
            var info = stat()
            guard lstat(base + "/" + relative, &info) == 0 else { continue }
            entries[relative] = "\(info.st_mode) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        return entries
    }

    /// Starts a server on `directory`, waits until it answers.
    static func server(_ directory: TemporaryDirectory, extraArguments: [String] = []) async throws -> LiveServer {
        let server = try LiveServer(dataDirectory: directory.path, token: token, extraArguments: extraArguments)
        try await server.waitUntilReady()
        return server
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// Sleeps a chosen random moment; fault injection only, never a wait for a condition.
func pause(_ seconds: TimeInterval) {
    if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
}

/// The suites run one test at a time: they start real servers, fill disks and kill processes,
/// and their waits block threads, which parallel suites would starve on a small machine.
@Suite(.serialized) enum Reliability {}
