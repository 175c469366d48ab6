import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Backups in use: recorded while a job works on them, kept by retention, forgotten after")
struct BackupInUseTests {
    @Test("the retention after a restore's safety backup keeps the backup being restored")
    func restoreSourceSurvivesItsSafetyBackupsRetention() async throws {
        let directory = TemporaryDirectory("in-use-restore-retention")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let older = try await service.createBackup(type: .manual)
        let newer = try await service.createBackup(type: .manual)
        // Keep only the newest manual backup: the older one is what retention would delete next.
        try service.catalog.saveSettings(
            BackupSettings(retention: RetentionPolicy(keepLast: 1, includeManual: true)), now: Date())

        let prepared = try service.prepareRestore(.backup(id: older.id))
        #expect(try service.catalog.usedBackupIDs() == [older.id])
        #expect(throws: BackupError.backupInUse(id: older.id, job: .restore)) { try service.delete(id: older.id) }
        let outcome = try await service.runRestore(prepared, safetyBackup: true)
        #expect(outcome.outcome == .succeeded)

        #expect(try service.catalog.record(id: older.id).status == .completed)
        #expect(try service.catalog.record(id: newer.id).status == .completed)
        #expect(try service.catalog.usedBackupIDs().isEmpty)
        #expect(try service.catalog.retentionFailure() == nil)
        // The job over, the next retention run applies the rule to it as to any other.
        #expect(try service.prune().deleted.map(\.id) == [older.id])
    }

    @Test("a use left by a process that died neither blocks a delete nor survives the next job")
    func staleUse() async throws {
        let directory = TemporaryDirectory("in-use-stale")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let first = try await service.createBackup()
        let second = try await service.createBackup()
        try service.catalog.recordUse(of: first.id, by: .verify, at: Date())
        try service.catalog.recordUse(of: second.id, by: .verify, at: Date())
        try service.delete(id: first.id)  // no job lock held: nobody uses it any more
        #expect(throws: BackupError.notFound(id: first.id)) { try service.catalog.record(id: first.id) }
        try await service.verify(id: second.id)  // the job's reconciliation clears what is left
        #expect(try service.catalog.usedBackupIDs().isEmpty)
    }
}
