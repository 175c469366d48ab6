import Foundation
import Logging

/// Starts automatic backups when they are due, through the job runner.
///
/// It sleeps until ``BackupService/nextAutomaticBackup()``; a settings change wakes it to
/// recompute. When a backup or restore runs at the due time, the automatic one waits for it
/// and runs after.
public actor Scheduler {
    private let runner: JobRunner
    private let clock: any WallClock
    private let logger: Logger
    private let alerts: AlertNotifier?
    private var wake: AsyncStream<Void>.Continuation?
    /// How long to wait before trying again while another process holds the job lock.
    public static let busyRetry: TimeInterval = 30

    public init(
        runner: JobRunner, clock: any WallClock, logger: Logger = Logger(label: "scheduler"),
        alerts: AlertNotifier? = nil
    ) {
        self.runner = runner
        self.clock = clock
        self.logger = logger
        self.alerts = alerts
    }

    /// Recompute the next due time now (the settings changed).
    public func reschedule() {
        wake?.yield()
    }

    /// Runs until the task is cancelled.
    public func run() async {
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake = continuation
        defer { continuation.finish() }
        while !Task.isCancelled {
            let due: Date?
            do {
                let service = runner.service
                due = try await BlockingWork.run { () throws(BackupError) in try service.nextAutomaticBackup() }
            } catch {
                logger.error("cannot read the schedule", metadata: ["error": "\(error.message)"])
                due = clock.now().addingTimeInterval(Self.busyRetry)
            }
            guard await waitUntil(due, orChangeIn: changes) else { continue }
            await startAutomaticBackup(changes: changes)
        }
    }

    /// Sleeps until `due` (forever when nil); false when a change or cancellation came first.
    private func waitUntil(_ due: Date?, orChangeIn changes: AsyncStream<Void>) async -> Bool {
        let clock = self.clock
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                guard let due else {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                    return false
                }
                do {
                    try await clock.sleep(until: due)
                    return !Task.isCancelled
                } catch {
                    return false
                }
            }
            group.addTask {
                for await _ in changes { return false }
                return false
            }
            let result = await group.next() ?? false
            group.cancelAll()
            return result
        }
    }

    private func startAutomaticBackup(changes: AsyncStream<Void>) async {
        while !Task.isCancelled {
            do {
                let info = try await runner.startBackup(type: .auto, note: nil)
                logger.info("automatic backup started", metadata: ["backup_id": "\(info.id)"])
                await runner.waitForCurrentJob()
                return
            } catch .backupInProgress {
                // A job here: wait for it. A job in another process: look again a little later.
                if await runner.currentJob != nil {
                    await runner.waitForCurrentJob()
                } else {
                    _ = await waitUntil(clock.now().addingTimeInterval(Self.busyRetry), orChangeIn: changes)
                }
            } catch {
                logger.error("automatic backup could not start", metadata: ["error": "\(error.message)"])
                alerts?.backupFailed(nil, message: "the automatic backup could not start: \(error.message)")
                return
            }
        }
    }
}
