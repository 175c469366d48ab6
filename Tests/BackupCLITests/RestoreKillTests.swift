import BackupCore
import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("kill -9 during a restore never leaves a broken or mixed database", .serialized)
struct RestoreKillTests {
    let backup = try! ChildProcess(product: "backup")

    static func fingerprint(_ path: String) throws -> String {
        try TestDB.fingerprint(path)
    }

    /// The change between the backup ("restored" content) and the live ("old") content.
    static let change = "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1); DELETE FROM account WHERE id > 50"

    @Test("20 kills at random moments: integrity_check passes and the content is the old or the restored one")
    func killDuringRestore() throws {
        let directory = TemporaryDirectory("cli-restore-kill")
        let database = directory.dataDirectory.database.path
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 24)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        let restored = try Self.fingerprint(database)
        try TestDB.execute(database, Self.change)
        let old = try Self.fingerprint(database)
        #expect(old != restored)

        // How long one restore takes here, to spread the kills over it.
        let started = Date()
        #expect(
            try backup.run(["restore", info.id, "--yes", "--no-safety-backup", "--data-dir", directory.path]).status
                == 0)
        let duration = Date().timeIntervalSince(started)
        #expect(try Self.fingerprint(database) == restored)

        var outcomes: [String: Int] = ["old": 0, "restored": 0]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            if try Self.fingerprint(database) == restored { try TestDB.execute(database, Self.change) }
            let arguments =
                ["restore", info.id, "--yes", "--data-dir", directory.path]
                + (round.isMultiple(of: 2) ? [] : ["--no-safety-backup"])
            let running = try backup.start(arguments)
            // Fault injection, not a timing assertion: the kill lands at a random moment from the
            // start to a little past the usual end, and whatever it hits, the checks below hold.
            Thread.sleep(forTimeInterval: Double.random(in: 0...(duration * 1.2), using: &generator))
            running.signal(SIGKILL)
            _ = running.wait()

            #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"], "round \(round)")
            let content = try Self.fingerprint(database)
            #expect(content == old || content == restored, "round \(round): a mixed database")
            outcomes[content == old ? "old" : "restored", default: 0] += 1
        }
        // The next process cleans up after the killed ones.
        #expect(try backup.run(["list", "--data-dir", directory.path]).status == 0)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let lease = try BackupService(dataDirectory: directory.dataDirectory).beginJob()
        lease.release()
        #expect(try catalog.records(status: .running).isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
        print("restore kill rounds: \(outcomes)")
    }
}
