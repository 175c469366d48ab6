import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Scheduler with a manual clock")
struct SchedulerTests {
    struct Fixture {
        let directory: TemporaryDirectory
        let clock: ManualClock
        let service: BackupService
        let runner: JobRunner
        let scheduler: Scheduler

        init(_ label: String, megabytes: Int = 1) throws {
            directory = TemporaryDirectory(label)
            try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: megabytes)
            let clock = ManualClock()
            self.clock = clock
            service = try BackupService(dataDirectory: directory.dataDirectory, clock: { clock.now() })
            runner = JobRunner(service: service)
            scheduler = Scheduler(runner: runner, clock: clock)
        }

        func enable(intervalHours: Int) throws {
            try service.saveSettings(BackupSettings(enabled: true, intervalHours: intervalHours))
        }

        func automaticBackups() throws -> [BackupInfo] {
            try service.catalog.page(BackupQuery(type: .auto)).items
        }

        /// Waits (bounded) until `count` automatic backups have completed and the runner is idle.
        func waitForAutomaticBackups(_ count: Int) async throws -> Bool {
            for _ in 0..<5000 {
                let done = try automaticBackups().filter { $0.status == .completed }.count
                if done >= count, await runner.currentJob == nil { return done == count }
                try await Task.sleep(for: .milliseconds(2))
            }
            return false
        }
    }

    @Test("enabling schedules the first automatic backup at enable + interval, and it runs then")
    func firstRun() async throws {
        let fixture = try Fixture("sched-first")
        let enabledAt = fixture.clock.now()
        try fixture.enable(intervalHours: 24)
        #expect(try fixture.service.nextAutomaticBackup() == enabledAt.addingTimeInterval(24 * 3600))
        #expect(try fixture.service.stats().nextAutoAt == enabledAt.addingTimeInterval(24 * 3600))

        let task = Task { await fixture.scheduler.run() }
        defer { task.cancel() }
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: 23 * 3600)
        await fixture.clock.waitForSleepers()
        #expect(try fixture.automaticBackups().isEmpty)
        fixture.clock.advance(by: 3600)
        #expect(try await fixture.waitForAutomaticBackups(1))
        let first = try #require(try fixture.automaticBackups().first)
        #expect(first.createdAt == enabledAt.addingTimeInterval(24 * 3600))
        #expect(try fixture.service.nextAutomaticBackup() == first.createdAt.addingTimeInterval(24 * 3600))
    }

    @Test("runs missed while the server was down happen once after start-up, not once per interval")
    func missedRunsOnce() async throws {
        let fixture = try Fixture("sched-missed")
        try fixture.enable(intervalHours: 1)
        fixture.clock.advance(by: 5 * 3600)  // the server was down for five intervals
        let task = Task { await fixture.scheduler.run() }
        defer { task.cancel() }
        #expect(try await fixture.waitForAutomaticBackups(1))
        await fixture.clock.waitForSleepers()
        #expect(try fixture.automaticBackups().count == 1)
        #expect(try fixture.service.nextAutomaticBackup() == fixture.clock.now().addingTimeInterval(3600))
    }

    @Test("a settings change reschedules at once")
    func rescheduleOnChange() async throws {
        let fixture = try Fixture("sched-change")
        try fixture.enable(intervalHours: 24)
        let task = Task { await fixture.scheduler.run() }
        defer { task.cancel() }
        await fixture.clock.waitForSleepers()
        try fixture.enable(intervalHours: 2)
        await fixture.scheduler.reschedule()
        fixture.clock.advance(by: 2 * 3600)
        #expect(try await fixture.waitForAutomaticBackups(1))
    }

    @Test("a due run waits for a job held by another process, then runs")
    func waitsForBusyLock() async throws {
        let fixture = try Fixture("sched-busy")
        try fixture.enable(intervalHours: 1)
        let lock = try #require(try AdvisoryLock.tryAcquire(at: fixture.directory.dataDirectory.jobLock.path))
        let task = Task { await fixture.scheduler.run() }
        defer { task.cancel() }
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: 3600)
        await fixture.clock.waitForSleepers()  // it found the lock held and waits to retry
        #expect(try fixture.automaticBackups().isEmpty)
        lock.release()
        fixture.clock.advance(by: Scheduler.busyRetry)
        #expect(try await fixture.waitForAutomaticBackups(1))
    }

    @Test("a due run waits for a manual backup running in this process, then runs after it")
    func waitsForRunningJob() async throws {
        let fixture = try Fixture("sched-manual", megabytes: 40)
        try fixture.enable(intervalHours: 1)
        let task = Task { await fixture.scheduler.run() }
        defer { task.cancel() }
        await fixture.clock.waitForSleepers()
        let manual = try await fixture.runner.startBackup(type: .manual, note: nil)
        fixture.clock.advance(by: 3600)
        #expect(try await fixture.waitForAutomaticBackups(1))
        #expect(try fixture.service.catalog.record(id: manual.id).status == .completed)
    }
}
