import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`: standard input `/dev/null`, standard output and
/// error on pipes, no other descriptor inherited, and a clean signal state.
///
/// Foundation's `Process` passes on the spawning thread's signal mask (a blocking-work thread
/// blocks nearly every signal) and the process's ignored signals (a server ignores SIGTERM to
/// handle it itself): a child started that way never sees SIGTERM or SIGINT, and only SIGKILL
/// can end it. Here the mask is emptied and the termination signals are reset to their
/// defaults, so a cancelled `pg_dump` ends on SIGTERM. The child is reaped with `waitpid`.
final class SpawnedChild {
    let pid: pid_t
    /// The read ends of the child's standard output and standard error.
    let stdout: Int32
    let stderr: Int32
    /// The raw `waitpid` status, once reaped.
    private(set) var status: Int32?

    /// Starts `executable` with `arguments` (argv[0] is the executable's path) and exactly
    /// `environment`.
    init(executable: String, arguments: [String], environment: [String: String]) throws(BackupError) {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard Self.pipeClosedOnExec(&outPipe) else { throw Self.failure(executable, "pipe") }
        guard Self.pipeClosedOnExec(&errPipe) else {
            close(outPipe[0])
            close(outPipe[1])
            throw Self.failure(executable, "pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Nothing else of ours (a lock file, a socket) goes to the child.
        _ = Self.addCloseFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw .io(path: executable, reason: "cannot start: \(String(cString: strerror(result)))")
        }
        self.pid = pid
        stdout = outPipe[0]
        stderr = errPipe[0]
    }

    /// Reaps the child if it has exited; true once it has (without blocking).
    func hasExited() -> Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid {
            status = raw
            return true
        }
        // Reaped by someone else (ECHILD): it is gone either way.
        if reaped < 0, errno == ECHILD { status = 0 }
        return status != nil
    }

    /// Sends `signal` to the child while it has not been reaped (a reaped pid may be reused).
    func signal(_ signal: Int32) {
        guard status == nil else { return }
        kill(pid, signal)
    }

    /// The exit status, or the signal's number when a signal ended it (see ``wasSignalled``).
    var exitStatus: Int32 {
        let raw = status ?? 0
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    /// Whether a signal ended the child.
    var wasSignalled: Bool {
        let raw = status ?? 0
        return raw & 0x7f != 0 && raw & 0x7f != 0x7f
    }

    /// Closes the pipes' read ends.
    func closePipes() {
        close(stdout)
        close(stderr)
    }

    /// `pipe2(fds, O_CLOEXEC)`: both ends closed on exec from the start, so a child another
    /// thread spawns meanwhile inherits neither. glibc's, looked up at run time (Swift's Glibc
    /// module leaves the GNU extensions out); `pipe` and `FD_CLOEXEC` where it is missing.
    private static func pipeClosedOnExec(_ fds: inout [Int32]) -> Bool {
        if let pipe2 = Self.pipe2 { return pipe2(&fds, O_CLOEXEC) == 0 }
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    // nonisolated(unsafe): the handle of the program itself, set once and only read (by dlsym).
    private nonisolated(unsafe) static let glibc = dlopen(nil, RTLD_NOW)

    private static let pipe2: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? = {
        dlsym(glibc, "pipe2").map {
            unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
        }
    }()

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            dlsym(glibc, "posix_spawn_file_actions_addclosefrom_np").map {
                unsafeBitCast(
                    $0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
            }
        }()

    private static func failure(_ executable: String, _ what: String) -> BackupError {
        .io(path: executable, reason: "cannot start: \(what): \(String(cString: strerror(errno)))")
    }
}
