import Foundation
import Logging

/// The server's off-site housekeeping: once at start, ``BackupService/recoverOffsite()``; then
/// every ``interval``, one retry of the oldest backup still waiting for its copy
/// (``JobRunner/retryUpload()``), so a failed or interrupted upload is made as soon as the
/// bucket answers again.
public struct UploadRetrier: Sendable {
    /// How often a waiting upload is retried.
    public static let interval: TimeInterval = 60

    let runner: JobRunner
    let clock: any WallClock
    let logger: Logger
    /// Whether off-site copies were on at start-up: only then does the start-up recovery run at
    /// once (a server without them starts exactly as before; later ticks look again).
    let offsiteAtStart: Bool

    public init(
        runner: JobRunner, clock: any WallClock, offsiteAtStart: Bool, logger: Logger = Logger(label: "offsite")
    ) {
        self.runner = runner
        self.clock = clock
        self.offsiteAtStart = offsiteAtStart
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run() async {
        if !offsiteAtStart {
            do { try await clock.sleep(until: clock.now().addingTimeInterval(Self.interval)) } catch { return }
        }
        let service = runner.service
        do {
            let recovery = try await BlockingWork.run { () async throws(BackupError) in
                try await service.recoverOffsite()
            }
            if recovery.abortedUploads > 0 || !recovery.recorded.isEmpty {
                logger.info(
                    "off-site start-up",
                    metadata: ["aborted_uploads": "\(recovery.abortedUploads)", "recorded": "\(recovery.recorded)"])
            }
        } catch {
            logger.error("off-site start-up failed", metadata: ["error": "\(error.message)"])
        }
        while !Task.isCancelled {
            if let info = await runner.retryUpload() {
                logger.info("retrying an off-site upload", metadata: ["backup_id": "\(info.id)"])
            }
            do { try await clock.sleep(until: clock.now().addingTimeInterval(Self.interval)) } catch { return }
        }
    }
}
