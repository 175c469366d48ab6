import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("PgTool: PostgreSQL's client programs as children, the password only in their environment")
struct PgToolTests {
    /// Threads of these tests' own for the runs they cancel, as `BlockingWork` gives PgTool in
    /// the product: the process-wide blocking threads may all be busy for a minute with the
    /// suites running beside these, and the tests time what happens after the cancel. The wait
    /// for the child blocks the test's own thread on purpose: the run needs nothing from the
    /// cooperative pool, which the suites beside may keep busy for longer than the wait.
    private static let threads = BlockingThreads(count: 2, name: "pgtool-tests")

    /// `/bin/sh -c SCRIPT` run the way PgTool runs pg_dump: the connection's arguments follow
    /// (`$1` is `--no-password`, `$2` is `--dbname=…`).
    private func shell(_ environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> PgTool {
        PgTool(name: "sh", executable: URL(fileURLWithPath: "/bin/sh"), environment: PostgresEnvironment(environment))
    }

    @Test(
        "argv has the redacted URL and --no-password; PGPASSWORD has the password; stderr keeps its last 8 KiB, scrubbed"
    )
    func childSeesPasswordOnlyInEnvironment() throws {
        let url = try PostgresURL(parsing: "postgresql://app:s3cr%40t@127.0.0.1:5432/app")
        let script = """
            tr '\\0' ' ' < /proc/$$/cmdline; echo
            head -c 20000 /dev/zero | tr '\\0' x >&2
            echo "at the end: $PGPASSWORD" >&2
            """
        let result = try shell().run(["-c", script, "sh"], connection: url, outputLimit: 4096)
        #expect(result.succeeded)
        #expect(
            result.stdout.contains("--no-password --dbname=postgresql://app@127.0.0.1:5432/app"), "\(result.stdout)")
        #expect(!result.stdout.contains("s3cr"))
        #expect(result.stderr.hasSuffix("at the end: ********\n"), "\(result.stderr.suffix(60))")
        #expect(result.stderr.hasPrefix("…x") && result.stderr.utf8.count <= PgTool.stderrLimit + 16)
    }

    @Test("a tool not on PATH is tool_missing naming the package")
    func missing() throws {
        let empty = TemporaryDirectory("pgtool-path")
        #expect(throws: BackupError.toolMissing(tool: "pg_dump", package: "postgresql-client")) {
            try PgTool.find("pg_dump", in: PostgresEnvironment(["PATH": empty.path]))
        }
        #expect(try PgTool.find("pg_dump", in: .process).executable.lastPathComponent == "pg_dump")
        #expect(
            BackupError.toolMissing(tool: "pg_dump", package: "postgresql-client").message
                == "pg_dump was not found on PATH: install the Debian package postgresql-client")
    }

    @Test(
        "a cancelled child ends on SIGTERM: it starts with no signal blocked or ignored, whatever its parent's thread blocks"
    )
    func cancelTerminates() async throws {
        let tool = shell()
        let status = try await BlockingWork.run { () throws(BackupError) in
            try tool.run(
                ["-c", "exec grep -E '^Sig(Blk|Ign)' /proc/self/status", "sh"], connection: nil, outputLimit: 4096)
        }
        let masks = status.stdout.split(separator: "\n").compactMap {
            UInt64($0.split(separator: "\t").last ?? "", radix: 16)
        }
        #expect(masks.count == 2 && masks[0] == 0, "nothing blocked: \(status.stdout)")
        let terminating = UInt64(1) << (SIGTERM - 1) | UInt64(1) << (SIGINT - 1)
        #expect(masks.count == 2 && masks[1] & terminating == 0, "SIGTERM and SIGINT not ignored: \(status.stdout)")
        // A duration of its own, so the scan finds this test's child and no other's.
        let nap = "sleep \(600 + Int.random(in: 0..<100_000))"
        // When the run returned, read on its own thread: the test's resumption afterwards waits
        // for a cooperative-pool thread, which the suites beside it may hold for a while.
        let ended = Mutex<ContinuousClock.Instant?>(nil)
        let task = Task(executorPreference: Self.threads) {
            defer { ended.withLock { $0 = ContinuousClock.now } }
            _ = try tool.run(["-c", "exec \(nap)", "sh"], connection: nil) {}
        }
        #expect(
            waitUntil {
                CommandLineScan.commandLines().contains { $0.trimmingCharacters(in: .whitespaces) == nap }
            })
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: BackupError.cancelled) { try await task.value }
        let end = try #require(ended.withLock { $0 })
        #expect(end - cancelled < PgTool.terminationGrace, "SIGTERM, not the SIGKILL after the grace")
    }

    @Test("a child that ignores SIGTERM is killed after the grace once the task is cancelled")
    func cancelEscalatesToKill() async throws {
        let tool = shell()
        let nap = "sleep \(600 + Int.random(in: 0..<100_000))"
        let pid = Mutex<Int32?>(nil)
        let ended = Mutex<ContinuousClock.Instant?>(nil)
        let task = Task(executorPreference: Self.threads) {
            defer { ended.withLock { $0 = ContinuousClock.now } }
            // `exec` keeps the ignored SIGTERM: the child is `sleep` itself.
            _ = try tool.run(["-c", "echo $$; trap '' TERM; exec \(nap)", "sh"], connection: nil, outputLimit: 64) {}
        }
        #expect(
            waitUntil {
                CommandLineScan.commandLines().contains { $0.trimmingCharacters(in: .whitespaces) == nap }
            })
        pid.withLock { $0 = CommandLineScan.pids(matching: nap).first }
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: BackupError.cancelled) { try await task.value }
        let waited = try #require(ended.withLock { $0 }) - cancelled
        #expect(waited >= PgTool.terminationGrace && waited < .seconds(30), "\(waited)")
        let child = try #require(pid.withLock { $0 })
        #expect(kill(child, 0) != 0, "the child is gone")
    }

    @Test("pg_dump's server version mismatch reads as tool_outdated naming both versions and postgresql-client")
    func versionMismatch() throws {
        let tool = PgTool(name: "pg_dump", executable: URL(fileURLWithPath: "/usr/bin/pg_dump"), environment: .process)
        // What pg_dump 15 prints against a PostgreSQL 16 server.
        let stderr = """
            pg_dump: error: aborting because of server version mismatch
            pg_dump: detail: server version: 16.4 (Debian 16.4-1.pgdg120+2); pg_dump version: 15.18 (Debian 15.18-0+deb12u1)

            """
        let error = tool.failure(
            PgTool.Result(status: 1, signalled: false, stdout: "", stderr: stderr), connection: nil)
        #expect(
            error
                == .toolOutdated(
                    tool: "pg_dump", version: "15.18 (Debian 15.18-0+deb12u1)",
                    serverVersion: "16.4 (Debian 16.4-1.pgdg120+2)", package: "postgresql-client"))
        #expect(error.code == "tool_outdated" && error.message.contains("postgresql-client of version 16 or newer"))
    }
}
