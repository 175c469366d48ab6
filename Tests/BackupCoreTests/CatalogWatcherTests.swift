import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Catalog changes made elsewhere reach the runner's subscribers")
struct CatalogWatcherTests {
    static func record(status: BackupStatus, done: Int64 = 0, total: Int64 = 0) -> BackupRecord {
        var record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: "elsewhere")
        record.status = status
        record.doneBytes = done
        record.totalBytes = total
        return record
    }

    /// The next catalog change on `events`, skipping job updates.
    static func nextChange(_ events: inout AsyncStream<RunnerEvent>.Iterator) async -> CatalogChange? {
        while let event = await events.next() {
            if case .catalog(let change) = event { return change }
        }
        return nil
    }

    @Test("data_version: a commit through another connection is noticed once; reads are not changes")
    func pollNoticesOtherConnections() async throws {
        let directory = TemporaryDirectory("watcher")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let watcher = try CatalogWatcher(url: directory.dataDirectory.catalog)
        defer { watcher.close() }
        #expect(try await watcher.poll() == false)

        _ = try catalog.allRecords()
        #expect(try await watcher.poll() == false)

        let other = try Catalog(dataDirectory: directory.dataDirectory)
        try other.insert(Self.record(status: .completed))
        #expect(try await watcher.poll() == true)
        #expect(try await watcher.poll() == false)

        try catalog.deleteRecord(id: try catalog.allRecords()[0].id)
        #expect(try await watcher.poll() == true)
    }

    @Test(
        "a backup of another lock holder is a catalog event with its stored progress; its end clears it",
        .timeLimit(.minutes(3)))
    func foreignJobProgress() async throws {
        let directory = TemporaryDirectory("watcher-foreign")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let runner = JobRunner(service: service)
        var events = await runner.events().makeAsyncIterator()
        let watcher = try CatalogWatcher(url: directory.dataDirectory.catalog)
        let watching = Task { await runner.watchCatalog(with: watcher, every: .milliseconds(10)) }
        defer { watching.cancel() }

        // Another process: its own connection and its own hold on the job lock.
        let other = try Catalog(dataDirectory: directory.dataDirectory)
        let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
        var record = Self.record(status: .running, done: 50, total: 200)
        try other.insert(record)
        let running = await Self.nextChange(&events)
        #expect(running?.count == 1)
        #expect(running?.foreignJob?.id == record.id)
        #expect(running?.foreignJob?.progress == BackupProgress(doneBytes: 50, totalBytes: 200))

        record.status = .completed
        try other.update(record)
        lock.release()
        let finished = await Self.nextChange(&events)
        #expect(finished == CatalogChange(count: 1, foreignJob: nil))

        // A record left running by a process that died (nobody holds the lock) is no job.
        try other.insert(Self.record(status: .running))
        #expect(await Self.nextChange(&events) == CatalogChange(count: 2, foreignJob: nil))
    }

    @Test("the real CLI creating, then deleting a backup: each is a change the watcher notices")
    func cliChangesAreNoticed() async throws {
        let directory = TemporaryDirectory("watcher-cli")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let watcher = try CatalogWatcher(url: directory.dataDirectory.catalog)
        defer { watcher.close() }
        let backup = try ChildProcess(product: "backup")

        let created = try backup.run(["create", "--data-dir", directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try await watcher.poll() == true)
        #expect(try await watcher.poll() == false)
        let id = try #require(try service.catalog.allRecords().first?.id)

        let deleted = try backup.run(["delete", id, "--yes", "--data-dir", directory.path])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await watcher.poll() == true)
        #expect(try service.catalog.allRecords().isEmpty)
    }
}
