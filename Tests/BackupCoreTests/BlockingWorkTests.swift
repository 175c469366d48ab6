import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Blocking work off the cooperative pool; an import as a job")
struct BlockingWorkTests {
    @Test("blocking work runs on threads of its own, and the caller's cancellation reaches it")
    func ownThreadsAndCancellation() async throws {
        #expect(await BlockingWork.run { BlockingWork.isCurrentThread })
        #expect(!BlockingWork.isCurrentThread)

        let started = DispatchSemaphore(value: 0)
        let work = Task {
            try await BlockingWork.run { () throws(BackupError) in
                started.signal()
                // What the writer and the verifier do between chunks.
                while !Task.isCancelled { usleep(1000) }
                throw .cancelled
            }
        }
        await BlockingWork.run { started.wait() }
        work.cancel()
        await #expect(throws: BackupError.cancelled) { try await work.value }
    }

    @Test("an import runs as a job: kind import, phase verify with the bundle's bytes, then the record")
    func importAsJob() async throws {
        let source = TemporaryDirectory("import-job-source")
        try SampleDatabase.create(at: source.dataDirectory.database, megabytes: 2)
        let made = try await BackupService(dataDirectory: source.dataDirectory).createBackup()
        let bundle = try Data(contentsOf: source.url.appendingPathComponent("backups/\(made.filename)"))

        let target = TemporaryDirectory("import-job-target")
        try target.dataDirectory.prepare()
        let service = try BackupService(dataDirectory: target.dataDirectory)
        let runner = JobRunner(service: service)
        let events = await runner.events()
        let session = try service.beginImport(expectedBytes: Int64(bundle.count))
        try Array(bundle).withBytes { (bytes) throws(BackupError) in try session.write(bytes) }
        let info = try await runner.runImport(session)
        #expect(info.id == made.id)
        #expect(info.type == .imported)
        #expect(await runner.currentJob == nil)

        var jobs: [JobStatus] = []
        for await event in events {
            guard case .job(let job) = event else { continue }
            jobs.append(job)
            if job.state != .running { break }
        }
        #expect(jobs.allSatisfy { $0.kind == .import && $0.backupID == session.id })
        #expect(
            jobs.contains {
                $0.state == .running && $0.phase == .verify && $0.progress?.totalBytes == Int64(bundle.count)
                    && ($0.progress?.doneBytes ?? 0) > 0
            }, "\(jobs)")
        #expect(jobs.last?.state == .completed)
    }

    @Test("an import while a job runs is busy, and leaves nothing")
    func importWhileBusy() async throws {
        let directory = TemporaryDirectory("import-job-busy")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let lease = try service.acquireJobLock()
        let runner = JobRunner(service: service)
        let session = try service.beginImport()
        try Array("not a bundle".utf8).withBytes { (bytes) throws(BackupError) in try session.write(bytes) }
        await #expect(throws: BackupError.backupInProgress) { try await runner.runImport(session) }
        lease.release()
        #expect(directory.temporaryFiles().isEmpty)
        #expect(await runner.currentJob == nil)
    }
}
