import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A built executable of this package, run as a real child process.
public struct ChildProcess: Sendable {
    /// The outcome of a finished run.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// True when the process ended by a signal rather than `exit`.
        public var signalled: Bool
    }

    public let executable: URL

    /// Finds a product (`backup`, `backup-api`) beside the test bundle in the build folder.
    public init(product: String) throws {
        let candidates = [
            ProcessInfo.processInfo.environment["BACKUP_PRODUCTS_DIR"].map { URL(fileURLWithPath: $0) },
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ].compactMap { $0 }
        for directory in candidates {
            let url = directory.appendingPathComponent(product)
            if FileManager.default.isExecutableFile(atPath: url.path) {
                executable = url
                return
            }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(product) in \(candidates.map(\.path))"])
    }

    /// A system tool by its path.
    public init(executablePath: String) {
        executable = URL(fileURLWithPath: executablePath)
    }

    /// Runs to the end with `arguments`; standard input gives `input`, or is closed when nil.
    public func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Result {
        let running = try start(arguments, environment: environment, input: input)
        return running.wait()
    }

    /// ``run(_:environment:input:)`` on a thread of its own (``offPool(_:)``): for an async test
    /// whose child runs for seconds (a backup, a restore) beside the other suites.
    public func runOffPool(
        _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) async throws -> Result {
        try await offPool { [self] in try run(arguments, environment: environment, input: input) }
    }

    /// Starts the process and returns at once; standard input gives `input`, or is closed when nil.
    public func start(
        _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "BACKUP_DATA_DIR")
        merged.removeValue(forKey: "BACKUP_DATABASE")
        merged.merge(environment) { $1 }
        process.environment = merged
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = input.map { _ in Pipe() }
        if let stdin { process.standardInput = stdin } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        if let stdin, let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        return Running(process: process, stdout: stdout, stderr: stderr)
    }

    /// A started child process.
    public final class Running {
        public let process: Process
        private let stdout: Pipe
        private let stderr: Pipe
        private let group = DispatchGroup()
        private let outData = Box()
        private let errData = Box()

        init(process: Process, stdout: Pipe, stderr: Pipe) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
            // Drain both pipes while the child runs so it never blocks on a full pipe. Each on a
            // thread of its own, not on Dispatch's pool: a full `make test` keeps dozens of
            // servers alive at once, and their blocked readers once took every Dispatch worker,
            // so the SIGCHLD handling of Foundation's Process never ran, a finished child was
            // never reaped, and the suite hung.
            for (pipe, box) in [(stdout, outData), (stderr, errData)] {
                group.enter()
                let handle = pipe.fileHandleForReading
                let thread = Thread { [group] in
                    let data = handle.readDataToEndOfFile()
                    box.withLock { $0 = data }
                    group.leave()
                }
                thread.stackSize = 256 * 1024
                thread.start()
            }
        }

        /// A test that ends early (a thrown error) must not leave its child running.
        deinit {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            _ = awaitExit()
        }

        public var pid: Int32 { process.processIdentifier }

        public func signal(_ number: Int32) {
            kill(process.processIdentifier, number)
        }

        public func wait() -> Result {
            let (status, signalled) = awaitExit()
            group.wait()
            return Result(
                status: status, stdout: String(decoding: outData.withLock { $0 }, as: UTF8.self),
                stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self), signalled: signalled)
        }

        /// Waits until the child has ended: its exit status (or the signal that ended it), and
        /// whether a signal did. Foundation's `waitUntilExit` alone once waited for good on a
        /// child that had ended (a zombie its SIGCHLD handling never reaped, twice in full
        /// `make test` runs), so the child is also looked at directly, with `waitid(WNOWAIT)`,
        /// which reads its status without reaping it and leaves that to Foundation.
        private func awaitExit() -> (status: Int32, signalled: Bool) {
            let pid = process.processIdentifier
            while process.isRunning {
                var info = siginfo_t()
                if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
                    info._sifields._sigchld.si_pid == pid
                {
                    return (info._sifields._sigchld.si_status, info.si_code != CLD_EXITED)
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }
    }
}

/// A thread-safe holder for what a pipe delivered.
final class Box: Sendable {
    private let data = Mutex(Data())
    func withLock<T>(_ body: (inout Data) -> T) -> T { data.withLock { body(&$0) } }
}

/// Runs blocking `body` (a child process's setup, a long wait) on a thread of its own and
/// awaits it, so an async test does not hold one of the cooperative pool's threads meanwhile.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// ``waitUntil(timeout:_:)`` for an async test whose condition waits on a task it started: the
/// pause between polls suspends instead of holding one of the cooperative pool's threads (two on
/// this machine), which the task and the tests running beside it need to make progress.
public func eventually(timeout: TimeInterval = 60, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    // Once more: a starved pool may have woken this task only after the deadline.
    return try condition()
}

/// Polls `condition` until it holds or `timeout` passes; for waiting on another process.
public func waitUntil(timeout: TimeInterval = 60, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return false
}
