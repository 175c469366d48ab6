import BackupCore
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// How the server comes back after a restore.
enum RestartMode: String, Sendable, CaseIterable {
    /// Re-execute the same binary with the same arguments and environment.
    case exec
    /// Exit with status 75 (EX_TEMPFAIL) for a supervisor (systemd `Restart=on-failure`) to start it again.
    case exit

    static let exitStatus: Int32 = 75
}

extension RestartMode {
    /// Restarts the process after `outcome`, as this mode says: never returns.
    func perform(after outcome: RestoreOutcome, logger: Logger) -> Never {
        let metadata: Logger.Metadata = [
            "backup_id": "\(outcome.backupID ?? "-")", "outcome": "\(outcome.outcome.rawValue)",
        ]
        switch self {
        case .exit:
            logger.notice(
                "restarting after the restore: exiting with status \(Self.exitStatus) for the supervisor",
                metadata: metadata)
            Glibc.exit(Self.exitStatus)
        case .exec:
            logger.notice("restarting after the restore: re-executing backup-api", metadata: metadata)
            Self.markDescriptorsCloseOnExec()
            let arguments = CommandLine.arguments
            let cArguments = arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", cArguments)
            logger.critical("re-exec failed: \(String(cString: strerror(errno)))")
            Glibc.exit(Self.exitStatus)
        }
    }
}

extension RestartMode {
    /// The descriptors this process was started with (a supervisor's sockets, the pipes and
    /// sockets of the process that started it): a re-exec keeps them, as a plain exec would.
    /// Read once, at start-up, before the server opens anything (``recordInheritedDescriptors()``).
    static let inheritedDescriptors: Set<Int32> = openDescriptors()

    /// Notes the inherited descriptors; call first thing at start-up.
    static func recordInheritedDescriptors() {
        _ = inheritedDescriptors
    }

    /// Marks every descriptor this process opened itself close-on-exec, so the re-executed
    /// server starts with none of them: not every library opens its descriptors with
    /// `O_CLOEXEC` (each restart leaked the event loops' two epoll descriptors). Inherited ones
    /// stay open: closing them would tell the parent that watches them (Foundation's `Process`
    /// watches a socket its child inherits) that the server had exited.
    static func markDescriptorsCloseOnExec() {
        for descriptor in openDescriptors() where descriptor > 2 && !inheritedDescriptors.contains(descriptor) {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    private static func openDescriptors() -> Set<Int32> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(names.compactMap(Int32.init))
    }
}

/// Carries finished restores from the server to the command that runs it.
///
/// The command makes one, gives it to ``buildApplication(_:clock:restarts:connections:)`` and
/// reads ``outcomes`` beside its service group: on a restore's outcome it triggers the group's
/// graceful shutdown (ServiceLifecycle's `triggerGracefulShutdown()`) and, once the server has
/// stopped, restarts with that outcome in hand. (`last-restore.json` stays the durable record
/// that `/api/status` reports after the restart, whoever restarted the server: this process
/// re-executed, a supervisor after exit 75, or a CLI restore made while no server ran.)
struct RestartRequests: Sendable {
    let outcomes: AsyncStream<RestoreOutcome>
    fileprivate let continuation: AsyncStream<RestoreOutcome>.Continuation

    init() {
        (outcomes, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }
}

/// Hands the job runner's finished restores to the command's ``RestartRequests``, then waits
/// for the graceful shutdown the command starts (a service may end only once shutdown has begun).
struct RestartWatcher: Service {
    let runner: JobRunner
    let requests: RestartRequests
    let logger: Logger

    func run() async throws {
        for await outcome in runner.restartRequests.cancelOnGracefulShutdown() {
            logger.notice(
                "restore finished; restarting",
                metadata: ["backup_id": "\(outcome.backupID ?? "-")", "outcome": "\(outcome.outcome.rawValue)"])
            requests.continuation.yield(outcome)
            try? await gracefulShutdown()
            return
        }
    }
}
