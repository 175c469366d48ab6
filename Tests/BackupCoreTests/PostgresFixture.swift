import Foundation
import Synchronization
import TestSupport

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server with a ledger in the database `app` (rows in (+x, −x) pairs, so
/// every consistent state sums to zero), and a backup service whose data directory protects it
/// through a URL carrying the password.
struct PostgresFixture {
    let server: PostgresServer
    let data = TemporaryDirectory("pg-data")
    let service: BackupService

    /// ``init(pairs:)`` off the cooperative pool (see ``PostgresServer/start()``).
    static func start(pairs: Int = 2000) async throws -> PostgresFixture {
        try await offPool { try PostgresFixture(pairs: pairs) }
    }

    /// - Parameter pairs: the ledger's first pairs (two rows each, ~100 bytes of text a row).
    init(pairs: Int = 2000) throws {
        server = try PostgresServer()
        try server.psql(
            """
            create table ledger (id bigserial primary key, pair int not null, amount bigint not null, memo text);
            insert into ledger (pair, amount, memo)
              select g, s * g, repeat(md5(g::text), 3)
              from generate_series(1, \(pairs)) g, (values (1), (-1)) v(s);
            create table writer_stop (stop boolean);
            """)
        service = try BackupService(
            dataDirectory: DataDirectory(root: data.path, parsingDatabase: server.urlText()))
    }

    /// The ledger's row count and sum in `database`.
    func ledger(in database: String = "app") throws -> (rows: Int, sum: Int) {
        let line = try server.psql("select count(*), coalesce(sum(amount), 0) from ledger", database: database)
        let fields = line.split(separator: "|").compactMap { Int($0) }
        return (fields.first ?? -1, fields.last ?? -1)
    }

    /// A bundle's file in `backups/`.
    func bundle(_ info: BackupInfo) -> URL {
        data.url.appendingPathComponent("backups/\(info.filename)")
    }

    /// `database.pgdump` taken out of a bundle with `tar` (the independent reader), in `into`.
    func extractDump(_ info: BackupInfo, into directory: URL) throws -> URL {
        let result = try ChildProcess(executablePath: "/usr/bin/tar").run([
            "-xzf", bundle(info).path, "-C", directory.path, "database.pgdump", "manifest.json",
        ])
        guard result.status == 0 else { throw PostgresServer.Failure(message: "tar: \(result.stderr)") }
        return directory.appendingPathComponent("database.pgdump")
    }

    /// A writer committing (+x, −x) pairs, one transaction each, as fast as it can: a `DO` loop
    /// in its own `psql` child, until a row appears in `writer_stop`.
    func startWriter() throws -> ChildProcess.Running {
        let loop = """
            do $$
            declare i int := 1000000; started timestamptz := clock_timestamp();
            begin
              loop
                i := i + 1;
                insert into ledger (pair, amount, memo) values (i, i, 'writer'), (i, -i, 'writer');
                commit;
                -- Also bounded in time: a test process killed before it stops the writer (a
                -- watchdog, a crash) must not leave it filling the disk.
                exit when exists (select 1 from writer_stop) or clock_timestamp() > started + interval '5 minutes';
              end loop;
            end $$;
            """
        return try ChildProcess(executablePath: PostgresServer.client("psql")).start([
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.directory.path, "-p", "\(server.port)", "-U",
            "postgres", "-d", "app", "-c", "set role app", "-c", loop,
        ])
    }

    /// Rows the writer has committed so far.
    func writerRows() throws -> Int {
        Int(try server.psql("select count(*) from ledger where memo = 'writer'")) ?? -1
    }

    /// Stops the writer and waits for its psql to end.
    func stopWriter(_ writer: ChildProcess.Running) throws -> ChildProcess.Result {
        try server.psql("insert into writer_stop values (true)")
        return writer.wait()
    }
}

/// Every command line of every process, read from `/proc` over and over on a thread of its own
/// while a backup runs: what a `ps` on the machine could have seen.
final class CommandLineScan: Sendable {
    private struct State {
        var lines: [String] = []
        var stop = false
        var done = false
    }

    private let state = Mutex(State())

    init() {
        Thread { [self] in
            while !state.withLock({ $0.stop }) {
                let found = Self.commandLines()
                state.withLock { $0.lines.append(contentsOf: found) }
            }
            state.withLock { $0.done = true }
        }.start()
    }

    /// Stops scanning and returns the distinct command lines seen.
    func finish() -> Set<String> {
        state.withLock { $0.stop = true }
        while !state.withLock({ $0.done }) { usleep(1000) }
        return Set(state.withLock { $0.lines })
    }

    /// The pids of the processes whose command line starts with `prefix`.
    static func pids(matching prefix: String) -> [Int32] {
        running().filter { $0.line.hasPrefix(prefix) }.map(\.pid)
    }

    /// The command lines of the processes running now (arguments joined by spaces).
    static func commandLines() -> [String] {
        running().map(\.line)
    }

    private static func running() -> [(pid: Int32, line: String)] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter {
            $0.allSatisfy(\.isNumber)
        }
        return pids.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
                return nil
            }
            return (Int32(pid) ?? 0, String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " "))
        }
    }
}
