import BackupCore
import Foundation
import TestSupport
import Testing

/// Incremental backups off-site, the way back on a new machine, as an operator would: the real
/// `backup` executable and a real S3 server on loopback (moto, signatures checked).
@Suite("backup remote list/pull/restore of incremental backups against moto, as real processes", .serialized)
struct RepositoryPullCLITests {
    let backup = try! ChildProcess(product: "backup")

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    func run(_ arguments: [String], _ directory: TemporaryDirectory) throws -> ChildProcess.Result {
        try backup.run(arguments + ["--data-dir", directory.path], environment: MotoServer.noEnvironment)
    }

    @Test(
        "machine A makes two encrypted incremental backups; machine B (off-site settings and A's identity only) lists both, pulls the first, restores the second exactly"
    )
    func newMachineRestoresIncremental() async throws {
        let moto = try await MotoServer()
        let a = TemporaryDirectory("pull-cli-a")
        try SampleDatabase.create(at: a.dataDirectory.database, megabytes: 3)
        #expect(try run(["key", "generate"], a).status == 0)
        let set = try moto.configure(a, with: backup, extra: ["format=incremental", "encryption.enabled=true"])
        #expect(set.status == 0, "\(set.stderr)")
        let first = try json(BackupInfo.self, try run(["create", "--json"], a))
        try TestDB.execute(a.dataDirectory.database.path, "UPDATE account SET balance = balance + 1 WHERE id % 50 = 0")
        let second = try json(BackupInfo.self, try run(["create", "--json"], a))
        let expected = try TestDB.fingerprint(a.dataDirectory.database.path)
        for info in [first, second] {
            #expect(info.format == .incremental && info.offsite.status == .uploaded, "\(info.offsite)")
        }

        let b = TemporaryDirectory("pull-cli-b")
        #expect(try moto.configure(b, with: backup).status == 0)
        let listed = try run(["remote", "list", "--json"], b)
        #expect(listed.status == 0, "\(listed.stderr)")
        let remote = try json([RemoteBackup].self, listed)
        #expect(remote.map(\.id) == [second.id, first.id])
        #expect(remote.allSatisfy { $0.format == .incremental && !$0.local })
        #expect(remote.map(\.logicalBytes) == [second.logicalBytes, first.logicalBytes])
        let table = try run(["remote", "list"], b)
        #expect(table.stdout.contains("FORMAT") && table.stdout.contains("incremental"), "\(table.stdout)")

        // Without a key the pull is refused (exit 3, as an encrypted bundle's restore).
        let refused = try run(["remote", "pull", first.id], b)
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        let identity = a.dataDirectory.backupKey.path
        let pulled = try run(["remote", "pull", first.id, "--identity", identity, "--json"], b)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try json(BackupInfo.self, pulled).store == "repository")

        let restored = try run(["restore", second.id, "--yes", "--identity", identity], b)
        #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")
        #expect(try TestDB.fingerprint(b.dataDirectory.database.path) == expected)
        #expect(try TestDB.strings(b.dataDirectory.database.path, "PRAGMA integrity_check") == ["ok"])
        let verified = try run(["verify", second.id, "--read-data", "--identity", identity], b)
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let relisted = try json([RemoteBackup].self, try run(["remote", "list", "--json"], b))
        #expect(relisted.allSatisfy { $0.local })

        // The bucket checks clean from B, every pack read whole; a bad subset is a usage error.
        let checked = try run(["remote", "check", "--read-data-subset", "100%", "--identity", identity], b)
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        #expect(checked.stdout.contains("2 indexes") && checked.stdout.contains("bucket repository: OK"))
        let report = try json(
            RemoteRepositoryCheckReport.self,
            try run(["remote", "check", "--read-data-subset", "1/1", "--identity", identity, "--json"], b))
        #expect(report.problems.isEmpty && report.packsRead == report.packs && report.packs > 0)
        #expect(try run(["remote", "check", "--read-data-subset", "0/3"], b).status == 2)
    }
}
