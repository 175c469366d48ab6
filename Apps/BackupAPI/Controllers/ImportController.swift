import BackupCore
import Foundation
import Hummingbird
import Synchronization

/// `POST /api/backups/import`: a bundle as the streamed body, written to `.tmp/` chunk by chunk
/// (flat memory; the size limit and the free-space floor checked as it arrives), verified and
/// recorded as `imported` by an import job (`current_job` shows its verification) under the job
/// lock, which is taken only once the body is complete. Every write of the body runs on the
/// blocking threads.
/// An upload slower than the server's ``ImportPace`` is cut off with 408.
struct ImportController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("import", use: importBundle)
    }

    @Sendable func importBundle(_ request: Request, context: Context) async throws -> Response {
        let service = services.service
        let runner = services.runner
        let clock = services.wallClock
        let pace = services.importPace
        let expectedBytes = request.headers[.contentLength].flatMap(Int64.init)
        let body = request.body
        let arrival = Arrival(started: clock.now())
        let info = try await withThrowingTaskGroup(of: BackupInfo?.self) { group in
            group.addTask {
                let session = try await BlockingWork.run { () throws(BackupError) in
                    try service.beginImport(expectedBytes: expectedBytes)
                }
                do {
                    for try await chunk in body {
                        try await BlockingWork.run { () throws(BackupError) in
                            try chunk.withUnsafeReadableBytes { (bytes) throws(BackupError) in try session.write(bytes)
                            }
                        }
                        arrival.record(chunk.readableBytes, at: clock.now())
                    }
                    // A body cut short by the watchdog ends like a complete one: not finished.
                    try Task.checkCancellation()
                    arrival.complete()
                    return try await runner.runImport(session)
                } catch {
                    session.abandon()
                    throw error
                }
            }
            group.addTask {
                try await Self.watch(arrival, pace: pace, clock: clock)
                return nil
            }
            while let result = try await group.next() {
                if let info = result {
                    group.cancelAll()
                    return info
                }
            }
            throw CancellationError()
        }
        var response = try Response.json(info, status: .created)
        response.headers[.location] = "/api/backups/\(info.id)"
        return response
    }

    /// Returns once the body is complete; throws 408 as soon as the upload falls behind `pace`.
    private static func watch(_ arrival: Arrival, pace: ImportPace, clock: any WallClock) async throws {
        while true {
            let (bytes, last, complete) = arrival.state
            if complete { return }
            if let reason = pace.violation(started: arrival.started, lastArrival: last, bytes: bytes, now: clock.now())
            {
                throw APIError(status: .requestTimeout, code: "import_too_slow", message: reason)
            }
            try await clock.sleep(until: pace.nextCheck(started: arrival.started, lastArrival: last, bytes: bytes))
        }
    }

    /// What has arrived of an upload, shared between the receiving task and its watchdog.
    private final class Arrival: Sendable {
        let started: Date
        private let progress: Mutex<(bytes: Int64, last: Date, complete: Bool)>

        init(started: Date) {
            self.started = started
            progress = Mutex((0, started, false))
        }

        var state: (bytes: Int64, last: Date, complete: Bool) { progress.withLock { $0 } }

        func record(_ count: Int, at time: Date) {
            progress.withLock {
                $0.bytes += Int64(count)
                $0.last = time
            }
        }

        func complete() {
            progress.withLock { $0.complete = true }
        }
    }
}
