import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One of PostgreSQL's client programs (`pg_dump`, `pg_restore`, `psql`), found on the
/// environment's `PATH` and run as a child process.
///
/// The password never reaches argv: the tools get the URL without it (`--dbname=`, see
/// ``PostgresURL/redacted``) and `--no-password` (never prompt), and the password through
/// `PGPASSWORD` in the child's environment. Standard input is `/dev/null`; standard error is
/// kept to its last ``stderrLimit`` bytes with the password taken out. ``run(_:connection:outputLimit:)``
/// blocks until the child exits: call it on a ``BlockingWork`` thread, never on the cooperative pool.
struct PgTool: Sendable {
    /// The Debian package that installs the client programs.
    static let package = "postgresql-client"
    /// How much of the tool's standard error is kept (its end).
    static let stderrLimit = 8 * 1024
    /// How long a cancelled child gets between SIGTERM and SIGKILL.
    static let terminationGrace: Duration = .seconds(3)

    let name: String
    let executable: URL
    let environment: PostgresEnvironment

    /// What a finished run left.
    struct Result: Sendable {
        var status: Int32
        /// The child was ended by a signal (``status`` is then the signal's number).
        var signalled: Bool
        var stdout: String
        /// The last ``PgTool/stderrLimit`` bytes, the password taken out.
        var stderr: String

        var succeeded: Bool { status == 0 && !signalled }
    }

    /// Finds `name` on the environment's `PATH`; ``BackupError/toolMissing(tool:package:)`` when
    /// no directory of it holds an executable of that name.
    static func find(_ name: String, in environment: PostgresEnvironment) throws(BackupError) -> PgTool {
        let path = environment.variables["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return PgTool(name: name, executable: candidate, environment: environment)
            }
        }
        throw .toolMissing(tool: name, package: package)
    }

    /// The tool's version (`pg_dump (PostgreSQL) 15.14 (Debian …)` gives `15.14`).
    func version() throws(BackupError) -> String {
        let result = try run(["--version"], connection: nil, outputLimit: 4096)
        guard result.succeeded else { throw failure(result, connection: nil) }
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        return words.first { $0.first?.isNumber == true }.map(String.init) ?? result.stdout
    }

    /// Runs the tool with `arguments` to its end. With `connection`, `--no-password` and
    /// `--dbname=` the redacted URL are appended and the password goes into the child's
    /// environment. Keeps at most `outputLimit` bytes of standard output (0: discards it).
    ///
    /// Task cancellation sends SIGTERM, then SIGKILL after ``terminationGrace``; once the child
    /// is gone it throws ``BackupError/cancelled``. `tick` runs about ten times a second while
    /// the child lives (the caller reports progress there).
    func run(
        _ arguments: [String], connection: PostgresURL?, outputLimit: Int = 0, tick: () -> Void = {}
    ) throws(BackupError) -> Result {
        let child = try SpawnedChild(
            executable: executable.path,
            arguments: arguments + (connection.map { ["--no-password", "--dbname=\($0.redacted)"] } ?? []),
            environment: connection?.childEnvironment(base: environment.variables) ?? environment.variables)
        var output = Tail(limit: outputLimit, keepsEnd: false)
        var errors = Tail(limit: Self.stderrLimit, keepsEnd: true)
        let cancelledAt = Self.drain(child, output: &output, errors: &errors, tick: tick)
        child.closePipes()
        if cancelledAt != nil { throw .cancelled }
        let scrub = { (text: String) in connection?.scrubbed(text) ?? text }
        return Result(
            status: child.exitStatus, signalled: child.wasSignalled, stdout: scrub(output.text),
            stderr: scrub(errors.text))
    }

    /// Reads both pipes until they close and the child has exited; on cancellation terminates
    /// it (SIGTERM, SIGKILL after the grace). Returns when cancellation was seen, nil otherwise.
    private static func drain(
        _ child: SpawnedChild, output: inout Tail, errors: inout Tail, tick: () -> Void
    ) -> ContinuousClock.Instant? {
        let (out, err) = (child.stdout, child.stderr)
        let clock = ContinuousClock()
        var cancelledAt: ContinuousClock.Instant?
        var killed = false
        var open = [out, err]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        /// Terminates the child once cancellation is seen, kills it after the grace.
        func enforceCancellation() {
            if cancelledAt == nil, Task.isCancelled {
                cancelledAt = clock.now
                child.signal(SIGTERM)
            }
            if let cancelledAt, !killed, clock.now - cancelledAt >= terminationGrace {
                killed = true
                child.signal(SIGKILL)
            }
        }
        while !open.isEmpty {
            enforceCancellation()
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            tick()
            if ready < 0, errno == EINTR { continue }
            // A quiet pipe after the child exited is held by a process of its own (none of the
            // tools leaves one): the child's end is what is waited for.
            if ready == 0, child.hasExited() { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, buffer.baseAddress, buffer.count)
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                if count <= 0 {
                    open.removeAll { $0 == entry.fd }
                    continue
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if entry.fd == out { output.append(chunk) } else { errors.append(chunk) }
            }
        }
        while !child.hasExited() {
            enforceCancellation()
            _ = poll(nil, 0, 20)
        }
        return cancelledAt
    }

    /// The error a failed run stands for: an unreachable server or a refused login
    /// (``BackupError/sourceUnavailable(path:reason:)``, naming the redacted URL), a server newer
    /// than the tool (``BackupError/toolOutdated(tool:version:serverVersion:package:)``), or the
    /// tool's exit status and the end of its standard error (``BackupError/toolFailed(tool:status:stderr:)``).
    func failure(_ result: Result, connection: PostgresURL?) -> BackupError {
        let stderr = result.stderr
        if stderr.contains("server version mismatch") {
            return .toolOutdated(
                tool: name, version: Self.field("\(name) version:", in: stderr) ?? "?",
                serverVersion: Self.field("server version:", in: stderr) ?? "?", package: Self.package)
        }
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        if let connection,
            let line = lines.first(where: { line in Self.connectionFailures.contains { line.contains($0) } })
        {
            return .sourceUnavailable(path: connection.redacted, reason: Self.withoutPrefix(line, tool: name))
        }
        if result.signalled {
            return .toolFailed(tool: name, status: result.status, stderr: "killed by signal \(result.status)")
        }
        return .toolFailed(tool: name, status: result.status, stderr: Self.lastLines(of: stderr))
    }

    /// What libpq says when it cannot connect or log in.
    private static let connectionFailures = [
        "connection to server", "could not connect to server", "could not translate host name",
        "no password supplied",
    ]

    /// The value after `label` up to `;` or the end of the line (`server version: 16.1; …`).
    private static func field(_ label: String, in text: String) -> String? {
        guard let start = text.range(of: label)?.upperBound else { return nil }
        let rest = text[start...].prefix { $0 != ";" && $0 != "\n" }
        return rest.trimmingCharacters(in: .whitespaces)
    }

    /// `pg_dump: error: connection to server … failed: …` without `pg_dump: error: `.
    private static func withoutPrefix(_ line: String, tool: String) -> String {
        var line = Substring(line)
        for prefix in ["\(tool): ", "error: "] where line.hasPrefix(prefix) { line = line.dropFirst(prefix.count) }
        return String(line)
    }

    /// The last few lines of standard error, for a message: at most 10 lines and 1,000 characters.
    static func lastLines(of stderr: String) -> String {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true).suffix(10)
        let text = lines.joined(separator: "; ")
        return text.count > 1000 ? "…" + text.suffix(999) : text
    }
}

/// The bytes kept of a stream: its start or its end, at most `limit` bytes.
private struct Tail {
    let limit: Int
    let keepsEnd: Bool
    private var bytes: [UInt8] = []
    private var dropped = false

    init(limit: Int, keepsEnd: Bool) {
        self.limit = limit
        self.keepsEnd = keepsEnd
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard limit > 0 else { return }
        if keepsEnd {
            bytes.append(contentsOf: chunk)
            if bytes.count > limit {
                bytes.removeFirst(bytes.count - limit)
                dropped = true
            }
        } else if bytes.count < limit {
            bytes.append(contentsOf: chunk.prefix(limit - bytes.count))
        }
    }

    var text: String {
        let text = String(decoding: bytes, as: UTF8.self)
        return dropped ? "…" + text : text
    }
}
