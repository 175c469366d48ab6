import BackupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for tests: a cluster made by `initdb` in a temporary directory,
/// its postmaster started on a free loopback port, stopped and removed by ``stop()`` (and when
/// released, so a test that fails still leaves nothing running).
///
/// The postmaster runs as this process's own child rather than a daemon started by `pg_ctl
/// start`: Foundation's `Process` learns that a child exited when a socket it hands the child
/// closes, and a daemon inheriting that socket keeps `pg_ctl`'s run from ever ending. Stopping
/// sends SIGINT, PostgreSQL's fast shutdown (what `pg_ctl -m fast stop` sends).
///
/// PostgreSQL refuses to run as root: as root, the directory is owned by `postgres` and the
/// server programs run as `postgres` (`runuser` for `initdb`, `setpriv` for the postmaster, so
/// the child is the postmaster itself). The server binaries are the highest version under
/// `/usr/lib/postgresql/*/bin`; the clients (`psql`, `pg_restore`) come from `PATH`, as they do
/// for the code under test.
///
/// Authentication is real: the superuser `postgres` logs in over the Unix socket (inside the
/// directory) by `trust`, and the role `app` (owner of the database `app`) over 127.0.0.1 with
/// ``password`` by `scram-sha-256`.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: `stopped` is the only mutable state, read and written under `lock`.
    public let port: Int
    /// The temporary directory: the cluster (`data/`), the log and the socket.
    public let directory: URL
    /// The password of the role `app`: `@`, `:`, `/` and `%` in it, so the URL's encoding matters.
    public let password = "pa:ss@w/rd%40-\(UUID().uuidString.prefix(6))"
    private let binaries: URL
    private let lock = NSLock()
    private var stopped = false
    private var postmaster: ChildProcess.Running?

    /// A step of the server's setup, or a client run, that failed.
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    /// Whether the tests run as root (then the server runs as `postgres`).
    static var isRoot: Bool { geteuid() == 0 }

    /// ``init()`` on a thread of its own: `initdb` and the start take seconds, which an async
    /// test must not spend holding one of the cooperative pool's threads (two on this machine,
    /// shared by every suite running beside it).
    public static func start() async throws -> PostgresServer {
        try await offPool { try PostgresServer() }
    }

    /// Creates the cluster, starts it and creates the role and database `app`. Fails (never
    /// skips) when PostgreSQL is not installed: run `make setup`.
    public init() throws {
        binaries = try Self.serverBinaries()
        port = try LiveServer.freePort()
        directory = URL(fileURLWithPath: "/tmp", isDirectory: true)
            .appendingPathComponent("backup-manager-pg-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        do {
            if Self.isRoot { try Self.check(Self.run("/bin/chown", ["postgres:postgres", directory.path])) }
            try Self.check(
                asServerUser(
                    "initdb",
                    ["-D", dataPath, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]))
            let hba = """
                local all postgres trust
                host all app 127.0.0.1/32 scram-sha-256

                """
            try asServerUserWrite(hba, to: dataPath + "/pg_hba.conf")
            let arguments = [
                "-D", dataPath, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1", "-c",
                "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ]
            let server = binaries.appendingPathComponent("postgres").path
            let running =
                Self.isRoot
                ? try ChildProcess(executablePath: "/usr/bin/setpriv").start(
                    ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", server] + arguments)
                : try ChildProcess(executablePath: server).start(arguments)
            lock.withLock { postmaster = running }
            try waitUntilReady(running)
            try psql("create role app login password '\(password)'", database: "postgres", role: nil)
            try createDatabase("app")
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    private var dataPath: String { directory.appendingPathComponent("data").path }

    /// `postgresql://app:PASSWORD@127.0.0.1:PORT/DATABASE` (the password percent-encoded), or
    /// without the password (then it must come from `PGPASSWORD` or a password file).
    public func url(database: String = "app", withPassword: Bool = true) -> PostgresURL {
        // Only unreserved characters stay as they are, so `@`, `:`, `/` and `%` are encoded.
        let unreserved = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let secret = withPassword ? ":" + password.addingPercentEncoding(withAllowedCharacters: unreserved)! : ""
        return try! PostgresURL(parsing: "postgresql://app\(secret)@127.0.0.1:\(port)/\(database)")
    }

    /// The URL's text, as an operator would type it.
    public func urlText(database: String = "app", withPassword: Bool = true) -> String {
        let unreserved = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let secret = withPassword ? ":" + password.addingPercentEncoding(withAllowedCharacters: unreserved)! : ""
        return "postgresql://app\(secret)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates the database `name`, owned by `app`.
    public func createDatabase(_ name: String) throws {
        _ = try psql("create database \"\(name)\" owner app;", database: "postgres", role: nil)
    }

    /// Runs `sql` with `psql` (as the superuser over the socket, then `set role` to `role`)
    /// and returns what it printed: unaligned, tuples only (`-A -t`). Fails when psql does.
    /// Each statement commits on its own (`CREATE DATABASE` may be one of them).
    @discardableResult
    public func psql(_ sql: String, database: String = "app", role: String? = "app") throws -> String {
        var arguments = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory.path, "-p", "\(port)"]
        arguments += ["-U", "postgres", "-d", database]
        if let role { arguments += ["-c", "set role \(role)"] }
        // The statements go through standard input: a password in them stays out of argv.
        arguments += ["-f", "-"]
        let result = try ChildProcess(executablePath: Self.client("psql")).run(arguments, input: sql)
        guard result.status == 0 else {
            throw Failure(message: "psql failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Restores a `pg_dump` custom-format file into `database` with the real `pg_restore`
    /// (as the superuser over the socket, `--no-owner`): the independent reader of a dump.
    public func pgRestore(_ dump: URL, into database: String) throws {
        let result = try ChildProcess(executablePath: Self.client("pg_restore")).run([
            "--no-owner", "--role=app", "--exit-on-error", "-h", directory.path, "-p", "\(port)", "-U", "postgres",
            "-d", database, dump.path,
        ])
        guard result.status == 0 else {
            throw Failure(message: "pg_restore failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
    }

    /// Waits (up to a minute) until the server accepts the superuser's connections.
    private func waitUntilReady(_ running: ChildProcess.Running) throws {
        let ready = binaries.appendingPathComponent("pg_isready").path
        for _ in 0..<1200 {
            guard running.process.isRunning else {
                let log = running.wait()
                throw Failure(message: "postgres exited (\(log.status)): \(log.stderr.suffix(2000))")
            }
            let probe = try Self.run(ready, ["-q", "-h", directory.path, "-p", "\(port)", "-U", "postgres"])
            if probe.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Failure(message: "postgres did not accept connections within a minute")
    }

    /// Stops the server (SIGINT: a fast shutdown, as `pg_ctl -m fast stop`), waits for it and
    /// removes the directory; once.
    public func stop() {
        let running: ChildProcess.Running?? = lock.withLock {
            defer { stopped = true }
            return stopped ? nil : .some(postmaster)
        }
        guard let running else { return }
        if let running {
            running.signal(SIGINT)
            _ = running.wait()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A client program's path on `PATH` (`psql`, `pg_restore`).
    public static func client(_ name: String) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/\(name)"
    }

    /// `/usr/lib/postgresql/<highest version>/bin`.
    private static func serverBinaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql", isDirectory: true)
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .compactMap { name in Int(name).map { ($0, name) } }
            .filter { FileManager.default.isExecutableFile(atPath: root.path + "/\($0.1)/bin/initdb") }
        guard let highest = versions.max(by: { $0.0 < $1.0 }) else {
            throw Failure(message: "no PostgreSQL server under /usr/lib/postgresql: run `make setup`")
        }
        return root.appendingPathComponent(highest.1).appendingPathComponent("bin")
    }

    /// Runs a server program, as `postgres` when the tests run as root.
    private func asServerUser(_ program: String, _ arguments: [String]) throws -> ChildProcess.Result {
        let path = binaries.appendingPathComponent(program).path
        if Self.isRoot { return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments) }
        return try Self.run(path, arguments)
    }

    /// Writes a file of the cluster, owned by `postgres` when the tests run as root.
    private func asServerUserWrite(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        if Self.isRoot { try Self.check(Self.run("/bin/chown", ["postgres:postgres", path])) }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess(executablePath: executable).run(arguments)
    }

    private static func check(_ result: ChildProcess.Result) throws {
        guard result.status == 0 else {
            throw Failure(message: "PostgreSQL setup failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
    }
}
