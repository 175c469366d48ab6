import BackupCore
import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite("Concurrency: one server per data directory, one job at a time, no lost records under load", .serialized)
    struct ConcurrencyTests {
        @Test("a second server refuses clearly, the CLI's restore is refused, and the first server keeps serving")
        func oneServerPerDataDirectory() async throws {
            let directory = try Harness.dataDirectory("one-server", megabytes: 1)
            let info = try Harness.createBackup(directory)
            let first = try await Harness.server(directory)
            let second = try LiveServer(dataDirectory: directory.path, token: Harness.token)
            let refused = second.process.wait()
            #expect(refused.status != 0)
            #expect(
                refused.stderr.contains("another backup-api already serves the data directory"), "\(refused.stderr)")
            let restore = try Harness.cli(["restore", info.id, "--yes"], directory)
            #expect(restore.status == 5)
            #expect(restore.stderr.contains("server is running"), "\(restore.stderr)")
            let (_, status) = try await first.request("GET", "/api/status")
            #expect(status.statusCode == 200)
            #expect(first.terminate().status == 0)
            let after = try await Harness.server(directory)
            #expect(after.terminate().status == 0)
        }

        @Test("server and CLI create at once: one job, one busy error, in both orders; a burst of POSTs gives one 202")
        func concurrentCreates() async throws {
            let directory = try Harness.dataDirectory("concurrent-creates", megabytes: 4)
            // In rollback-journal mode an exclusive lock keeps a job waiting at its snapshot: it
            // stays running while the other side asks, however fast or loaded the machine is.
            let database = directory.dataDirectory.database.path
            try TestDB.setJournalMode(database, "delete")
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let catalog = try Catalog(dataDirectory: directory.dataDirectory)
            func running() throws -> BackupInfo? {
                try catalog.page(BackupQuery(limit: 1)).items.first { $0.status == .running }
            }
            var busy = 0
            for _ in 0..<Intensity.count(short: 2, long: 6) {
                // The CLI first, held at its snapshot: the server is busy.
                var application = try HeldTransaction(path: database, exclusive: true)
                let cli = try Harness.backup.start(["create", "--data-dir", directory.path])
                #expect(try waitUntil { try running() != nil })
                let (body, post) = try await server.request("POST", "/api/backups")
                #expect(post.statusCode == 409, "\(String(decoding: body, as: UTF8.self))")
                #expect(String(decoding: body, as: UTF8.self).contains("backup_in_progress"))
                busy += post.statusCode == 409 ? 1 : 0
                try application.release()
                #expect(cli.wait().status == 0)

                // The server first: the CLI exits 4.
                application = try HeldTransaction(path: database, exclusive: true)
                let (createdBody, created) = try await server.request("POST", "/api/backups")
                #expect(created.statusCode == 202)
                let pending = try server.decode(BackupInfo.self, createdBody)
                #expect(try waitUntil { try running() != nil })
                let refused = try Harness.cli(["create"], directory)
                #expect(refused.status == 4, "\(refused.stderr)")
                busy += refused.status == 4 ? 1 : 0
                try application.release()
                #expect(try await server.waitForCompletion(id: pending.id).status == .completed)
            }
            // A burst of concurrent POSTs while the first job waits: exactly one starts a job.
            let application = try HeldTransaction(path: database, exclusive: true)
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 { group.addTask { try await server.request("POST", "/api/backups").1.statusCode } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try application.release()
            #expect(codes.filter { $0 == 202 }.count == 1, "\(codes)")
            #expect(codes.filter { $0 == 409 }.count == 15, "\(codes)")
            busy += codes.filter { $0 == 409 }.count
            _ = waitUntil(timeout: 120) { (try? catalog.records(status: .running).isEmpty) ?? false }
            #expect(try catalog.records(status: .failed).isEmpty)
            Intensity.figure("concurrency suite: \(busy) concurrent creates refused as busy, one job each time")
        }

        /// How long any one request may take while backups and verifications run: far above a
        /// request's own work (milliseconds) even on a loaded 2-core machine, far below a job's.
        static let latencyBound: Duration = .seconds(3)

        @Test("load on loopback during backups and verifications: every request 2xx within a few seconds, none lost")
        func loadDuringBackups() async throws {
            let directory = try Harness.dataDirectory("load", megabytes: 24)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let total = Intensity.count(short: 600, long: 3000)
            let rounds = Intensity.count(short: 3, long: 10)
            let workers = 8
            let counter = Counter()
            let started = StartedBackups()
            let jobsDone = Flag()
            // Timed, never slept on: how long each answer took.
            @Sendable func timed(_ method: String, _ path: String) async throws -> (Data, HTTPURLResponse) {
                let clock = ContinuousClock()
                let start = clock.now
                let answer = try await server.request(method, path)
                counter.record(answer.1.statusCode, "\(method) \(path)", took: clock.now - start)
                return answer
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // One client makes jobs back to back (a backup, then its verification), so a job
                // nearly always runs and every POST is accepted: a 409 is a failure, not a busy
                // server to shrug off.
                group.addTask {
                    defer { jobsDone.set() }
                    for _ in 0..<rounds {
                        let (body, post) = try await timed("POST", "/api/backups")
                        guard post.statusCode == 202 else { return }
                        let id = try server.decode(BackupInfo.self, body).id
                        started.add(id)
                        _ = try await server.waitForCompletion(id: id)
                        if try await timed("POST", "/api/backups/\(id)/verify").1.statusCode == 202 {
                            _ = try await server.waitForCompletion(id: id)
                        }
                    }
                }
                for worker in 0..<workers {
                    group.addTask {
                        var index = worker
                        while index < total || !jobsDone.isSet {
                            let path: String
                            switch index % 7 {
                            case 0: path = "/api/backups?limit=20"
                            case 1: path = "/api/status"
                            case 2: path = "/api/backups/stats"
                            case 3: path = "/api/settings/backup"
                            case 4: path = "/healthz"
                            default: path = "/api/backups?limit=5&status=completed"
                            }
                            _ = try await timed("GET", path)
                            index += workers
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(counter.failures.isEmpty, "\(counter.failures.prefix(10))")
            #expect(counter.slow.isEmpty, "answered after more than \(Self.latencyBound): \(counter.slow.prefix(10))")
            #expect(!started.ids.isEmpty)
            for id in started.ids {
                #expect(try await server.waitForCompletion(id: id).status == .completed)
            }
            let (body, _) = try await server.request("GET", "/api/backups?limit=500")
            struct Page: Decodable { var items: [BackupInfo] }
            let listed = Set(try server.decode(Page.self, body).items.map(\.id))
            #expect(Set(started.ids).isSubset(of: listed), "a record was lost")
            Intensity.figure(
                "concurrency suite: \(counter.count) requests under load by \(workers) clients, \(counter.failures.count) errors, "
                    + "slowest \(counter.slowest), \(started.ids.count) backups made and verified meanwhile, none lost")
        }
    }

    /// Counts responses from concurrent clients, and those slower than the latency bound.
    final class Counter: Sendable {
        private let state = Mutex<(count: Int, failures: [String], slow: [String], slowest: Duration)>(
            (0, [], [], .zero))
        func record(_ status: Int, _ request: String, took: Duration) {
            state.withLock {
                $0.count += 1
                if !(200..<300).contains(status) { $0.failures.append("\(request): \(status)") }
                if took > ConcurrencyTests.latencyBound { $0.slow.append("\(request): \(took)") }
                $0.slowest = max($0.slowest, took)
            }
        }
        var count: Int { state.withLock { $0.count } }
        var failures: [String] { state.withLock { $0.failures } }
        var slow: [String] { state.withLock { $0.slow } }
        var slowest: Duration { state.withLock { $0.slowest } }
    }

    /// Set once, read by another task.
    final class Flag: Sendable {
        private let state = Mutex(false)
        func set() { state.withLock { $0 = true } }
        var isSet: Bool { state.withLock { $0 } }
    }

    final class StartedBackups: Sendable {
        private let state = Mutex<[String]>([])
        func add(_ id: String) { state.withLock { $0.append(id) } }
        var ids: [String] { state.withLock { $0 } }
    }
}
