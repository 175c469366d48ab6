import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Backup jobs: lock, space, cancellation, recovery")
struct BackupServiceTests {
    @Test("a record moves pending → running → completed, with duration and page count")
    func lifecycle() async throws {
        let directory = TemporaryDirectory("job-lifecycle")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let prepared = try service.prepareBackup(type: .manual, note: "n")
        #expect(try service.catalog.record(id: prepared.record.id).status == .pending)
        let statuses = Mutex<Set<BackupStatus>>([])
        let info = try await service.run(prepared) { _ in
            if let status = try? service.catalog.record(id: prepared.record.id).status {
                statuses.withLock { _ = $0.insert(status) }
            }
        }
        #expect(statuses.withLock { $0 } == [.running])
        let record = try service.catalog.record(id: info.id)
        #expect(record.status == .completed)
        #expect(record.durationMs != nil)
        #expect((record.sourcePageCount ?? 0) > 0)
        #expect(record.note == "n")
    }

    @Test("a second job while one holds the lock fails at once as busy")
    func busy() async throws {
        let directory = TemporaryDirectory("job-busy")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let prepared = try service.prepareBackup(type: .manual, note: nil)
        #expect(throws: BackupError.backupInProgress) { try service.prepareBackup(type: .manual, note: nil) }
        await #expect(throws: BackupError.backupInProgress) { try await service.verify(id: prepared.record.id) }
        try await service.run(prepared)
        // Released after the run: the next one goes through.
        try await service.createBackup()
    }

    @Test("a backup that would not fit is refused before anything is written")
    func insufficientSpace() async throws {
        let directory = TemporaryDirectory("job-space")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let service = BackupService(
            dataDirectory: directory.dataDirectory, catalog: catalog, clock: { Date() },
            snapshotEngine: SnapshotEngine(), freeSpace: { _ in 1024 * 1024 })
        let error = await #expect(throws: BackupError.self) { try await service.createBackup() }
        guard case .insufficientSpace(let needed, let available) = error else {
            Issue.record("expected insufficientSpace, got \(String(describing: error))")
            return
        }
        #expect(needed > 4 * 1024 * 1024)
        #expect(available == 1024 * 1024)
        #expect(try catalog.page(BackupQuery()).items.isEmpty)
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("cancelling a running backup leaves no bundle, no partial file, and a cancelled record")
    func cancellation() async throws {
        let directory = TemporaryDirectory("job-cancel")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 16)
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let service = BackupService(
            dataDirectory: directory.dataDirectory, catalog: catalog, snapshotEngine: SnapshotEngine(pagesPerStep: 64))
        let prepared = try service.prepareBackup(type: .manual, note: nil)
        let gate = PauseGate()
        let task = Task { try await service.run(prepared) { _ in gate.pauseOnFirstCall() } }
        await gate.waitUntilPaused()
        task.cancel()
        gate.release()
        await #expect(throws: BackupError.cancelled) { try await task.value }
        #expect(try catalog.record(id: prepared.record.id).status == .cancelled)
        #expect(directory.backupFiles().isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
        // The lock was released.
        try await service.createBackup()
    }

    @Test("the next process to take the lock marks a dead job's record failed and empties .tmp")
    func recoveryOfInterruptedJob() throws {
        let directory = TemporaryDirectory("job-recovery")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
        record.status = .running
        try service.catalog.insert(record)
        let partial = directory.dataDirectory.temporary.appendingPathComponent(record.filename + ".partial")
        try Data("half a bundle".utf8).write(to: partial)

        let lease = try service.beginJob()
        lease.release()

        let recovered = try service.catalog.record(id: record.id)
        #expect(recovered.status == .failed)
        #expect(recovered.error?.contains("interrupted") == true)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("deleting removes the record, the bundle and the sidecar; a running job cannot be deleted")
    func deletion() async throws {
        let directory = TemporaryDirectory("job-delete")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let info = try await service.createBackup()
        try service.delete(id: info.id)
        #expect(directory.backupFiles().isEmpty)
        #expect(throws: BackupError.notFound(id: info.id)) { try service.catalog.record(id: info.id) }

        let prepared = try service.prepareBackup(type: .manual, note: nil)
        #expect(throws: BackupError.self) { try service.delete(id: prepared.record.id) }
        try await service.run(prepared)
    }

    @Test(
        "ids that are not ours are refused before any lookup",
        arguments: ["../../etc", "ABCDEF0123456789", "1234", "%2e%2e"])
    func invalidIDs(_ id: String) throws {
        let directory = TemporaryDirectory("job-ids")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        #expect(throws: BackupError.invalidID(id)) { try service.catalog.record(id: id) }
    }
}
