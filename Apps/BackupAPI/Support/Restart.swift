import BackupCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

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

/// Set once a restore asks for a restart; read after the server has shut down.
final class RestartRequest: Sendable {
    private let requested = Mutex(false)

    init() {}

    var isRequested: Bool { requested.withLock { $0 } }

    func request() {
        requested.withLock { $0 = true }
    }

    /// Restarts the process as `mode` says: never returns.
    func perform(_ mode: RestartMode, logger: Logger) -> Never {
        switch mode {
        case .exit:
            logger.notice("restarting: exiting with status \(RestartMode.exitStatus) for the supervisor")
            Glibc.exit(RestartMode.exitStatus)
        case .exec:
            logger.notice("restarting: re-executing backup-api")
            Self.markDescriptorsCloseOnExec()
            let arguments = CommandLine.arguments
            let cArguments = arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", cArguments)
            logger.critical("re-exec failed: \(String(cString: strerror(errno)))")
            Glibc.exit(RestartMode.exitStatus)
        }
    }
}

extension RestartRequest {
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

/// Waits for a finished restore, then shuts the server down gracefully (as SIGTERM would) so
/// the command can restart it.
struct RestartWatcher: Service {
    let runner: JobRunner
    let request: RestartRequest
    let logger: Logger

    func run() async throws {
        for await outcome in runner.restartRequests.cancelOnGracefulShutdown() {
            logger.notice(
                "restore finished; restarting",
                metadata: ["backup_id": "\(outcome.backupID ?? "-")", "outcome": "\(outcome.outcome.rawValue)"])
            request.request()
            kill(getpid(), SIGTERM)
            // A service may only end once shutdown has begun; the signal begins it.
            try? await gracefulShutdown()
            return
        }
    }
}
