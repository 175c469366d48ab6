import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Interrupted backups leave nothing behind", .serialized)
struct InterruptionTests {
    let backup = try! ChildProcess(product: "backup")

    /// Starts `backup create` on a database big enough to catch mid-copy, waits until the
    /// catalog shows it running with progress, and freezes it there (SIGSTOP).
    func startAndFreezeBackup(in directory: TemporaryDirectory) throws -> (ChildProcess.Running, BackupRecord) {
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 120)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let running = try backup.start(["create", "--data-dir", directory.path])
        var seen: BackupRecord?
        let caught = try waitUntil {
            seen = try catalog.page(BackupQuery(limit: 1)).items.first.flatMap { info in
                info.status == .running && (info.progress?.doneBytes ?? 0) > 0 ? try catalog.record(id: info.id) : nil
            }
            return seen != nil
        }
        running.signal(SIGSTOP)
        let record = try #require(seen)
        #expect(caught)
        return (running, record)
    }

    @Test("kill -9 mid-backup: no partial bundle, and the next process marks the record failed and empties .tmp")
    func killMidBackup() throws {
        let directory = TemporaryDirectory("cli-kill")
        let (running, record) = try startAndFreezeBackup(in: directory)
        running.signal(SIGKILL)
        let result = running.wait()
        #expect(result.signalled)
        #expect(!directory.backupFiles().contains(record.filename))

        // The next process that takes the lock cleans up.
        let next = try backup.run(["create", "--data-dir", directory.path, "--json"])
        #expect(next.status == 0, "\(next.stderr)")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let dead = try catalog.record(id: record.id)
        #expect(dead.status == .failed)
        #expect(dead.error?.contains("interrupted") == true)
        #expect(try catalog.records(status: .running).isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
        #expect(directory.backupFiles().count == 2)
    }

    @Test("Ctrl-C mid-backup cancels it: no partial file, record cancelled, exit status 1")
    func interruptMidBackup() throws {
        let directory = TemporaryDirectory("cli-sigint")
        let (running, record) = try startAndFreezeBackup(in: directory)
        running.signal(SIGINT)
        running.signal(SIGCONT)
        let result = running.wait()
        #expect(result.status == 1)
        #expect(result.stderr.contains("cancelled"))
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.record(id: record.id).status == .cancelled)
        #expect(directory.backupFiles().isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
    }
}
