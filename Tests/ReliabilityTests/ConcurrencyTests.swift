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
            let directory = try Harness.dataDirectory("concurrent-creates", megabytes: 48)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let catalog = try Catalog(dataDirectory: directory.dataDirectory)
            func running() throws -> BackupInfo? {
                try catalog.page(BackupQuery(limit: 1)).items.first {
                    $0.status == .running && ($0.progress?.doneBytes ?? 0) > 0
                }
            }
            var busy = 0
            for _ in 0..<Intensity.count(short: 2, long: 6) {
                // The CLI first, held mid-copy: the server is busy.
                let cli = try Harness.backup.start(["create", "--data-dir", directory.path])
                #expect(try waitUntil { try running() != nil })
                cli.signal(SIGSTOP)
                let (body, post) = try await server.request("POST", "/api/backups")
                #expect(post.statusCode == 409, "\(String(decoding: body, as: UTF8.self))")
                #expect(String(decoding: body, as: UTF8.self).contains("backup_in_progress"))
                busy += post.statusCode == 409 ? 1 : 0
                cli.signal(SIGCONT)
                #expect(cli.wait().status == 0)

                // The server first: the CLI exits 4.
                let (createdBody, created) = try await server.request("POST", "/api/backups")
                #expect(created.statusCode == 202)
                let pending = try server.decode(BackupInfo.self, createdBody)
                #expect(try waitUntil { try running() != nil })
                let refused = try Harness.cli(["create"], directory)
                #expect(refused.status == 4, "\(refused.stderr)")
                busy += refused.status == 4 ? 1 : 0
                #expect(try await server.waitForCompletion(id: pending.id).status == .completed)
            }
            // A burst of concurrent POSTs: exactly one starts a job.
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 { group.addTask { try await server.request("POST", "/api/backups").1.statusCode } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(codes.filter { $0 == 202 }.count == 1, "\(codes)")
            #expect(codes.filter { $0 == 409 }.count == 15, "\(codes)")
            busy += codes.filter { $0 == 409 }.count
            _ = waitUntil(timeout: 120) { (try? catalog.records(status: .running).isEmpty) ?? false }
            #expect(try catalog.records(status: .failed).isEmpty)
            Intensity.figure("concurrency suite: \(busy) concurrent creates refused as busy, one job each time")
        }

        @Test("bounded load on loopback during backups: no errors, no lost records")
        func loadDuringBackups() async throws {
            let directory = try Harness.dataDirectory("load", megabytes: 24)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let total = Intensity.count(short: 600, long: 3000)
            let workers = 8
            let counter = Counter()
            let started = StartedBackups()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var index = worker
                        while index < total {
                            let path: String
                            switch index % 7 {
                            case 0: path = "/api/backups?limit=20"
                            case 1: path = "/api/status"
                            case 2: path = "/api/backups/stats"
                            case 3: path = "/api/settings/backup"
                            case 4: path = "/healthz"
                            default: path = "/api/backups?limit=5&status=completed"
                            }
                            let (_, response) = try await server.request("GET", path)
                            counter.record(response.statusCode)
                            if index % 50 == 0 {
                                let (body, post) = try await server.request("POST", "/api/backups")
                                counter.record(post.statusCode == 409 ? 200 : post.statusCode)
                                if post.statusCode == 202 { started.add(try server.decode(BackupInfo.self, body).id) }
                            }
                            index += workers
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(counter.failures.isEmpty, "\(counter.failures.prefix(10))")
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
                    + "\(started.ids.count) backups made meanwhile, none lost")
        }
    }

    /// Counts responses from concurrent clients.
    final class Counter: Sendable {
        private let state = Mutex<(count: Int, failures: [Int])>((0, []))
        func record(_ status: Int) {
            state.withLock {
                $0.count += 1
                if !(200..<300).contains(status) { $0.failures.append(status) }
            }
        }
        var count: Int { state.withLock { $0.count } }
        var failures: [Int] { state.withLock { $0.failures } }
    }

    final class StartedBackups: Sendable {
        private let state = Mutex<[String]>([])
        func add(_ id: String) { state.withLock { $0.append(id) } }
        var ids: [String] { state.withLock { $0 } }
    }
}
