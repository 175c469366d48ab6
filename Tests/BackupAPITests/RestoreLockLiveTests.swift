import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restore through the real server: the lock deadline, the drain deadline, descriptors", .serialized)
struct RestoreLockLiveTests {
    struct Job: Decodable { var phase: String? }
    struct Status: Decodable {
        var state: String
        var current_job: Job?
        var last_restore: RestoreOutcome?
    }

    /// Polls `/api/status` (riding over a restart's refused connections) until `condition`, for
    /// at most `timeout` seconds.
    func waitForStatus(
        _ server: LiveServer, timeout: TimeInterval = 30, _ condition: (Status) -> Bool
    ) async throws -> Status {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (data, response) = try? await server.request("GET", "/api/status"), response.statusCode == 200,
                let status = try? server.decode(Status.self, data), condition(status)
            {
                return status
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TimedOut()
    }

    struct TimedOut: Error {}

    @Test("a transaction held open: waiting_for_lock, then failed after the deadline, database unchanged, no restart")
    func heldTransaction() async throws {
        let (directory, server, info) = try await RestoreLiveTests.prepared("live-restore-locked", megabytes: 1)
        defer { _ = server.terminate() }
        // Long enough that a poll of /api/status lands inside the wait even on a machine loaded by
        // the whole suite (2 s was missed once there: every request then took seconds).
        let (_, put) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"restore_lock_timeout_seconds": 8}"#.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(put.statusCode == 200)
        let path = directory.dataDirectory.database.path
        let before = try TestDB.fingerprint(path)
        let application = try HeldTransaction(path: path)
        let pid = server.process.pid

        let (_, started) = try await server.request("POST", "/api/backups/\(info.id)/restore")
        #expect(started.statusCode == 202)
        let waiting = try await waitForStatus(server) { $0.current_job?.phase == "waiting_for_lock" }
        #expect(waiting.state == "maintenance")
        #expect(try await server.request("GET", "/healthz", authorized: false).1.statusCode == 200)
        let ended = try await waitForStatus(server) { $0.last_restore != nil && $0.state == "ready" }
        try application.release()

        #expect(ended.last_restore?.outcome == .failed)
        #expect(ended.last_restore?.error?.contains("restore_lock_timeout_seconds") == true)
        #expect(ended.last_restore?.safetyBackupID == nil)
        #expect(try TestDB.fingerprint(path) == before)
        #expect(server.process.pid == pid)
        #expect(try await server.request("GET", "/api/backups").1.statusCode == 200)
    }

    @Test("a restore with a frozen download: health answers in maintenance, the server is back within the deadline")
    func frozenDownloadDuringRestore() async throws {
        let drain = 2
        let (directory, server, info) = try await RestoreLiveTests.prepared(
            "live-restore-frozen", arguments: ["--drain-timeout", "\(drain)"])
        defer { _ = server.terminate() }
        let large = try await largeBackup(directory, server)
        let frozen = try Self.freezeDownload(server, large)
        defer { frozen.close() }

        let started = Date()
        let (_, accepted) = try await server.request(
            "POST", "/api/backups/\(info.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(accepted.statusCode == 202)
        // Maintenance may be short (the download no longer counts once its headers are out), and a
        // loaded machine may poll past it: health during maintenance is pinned deterministically by
        // `heldTransaction`; here it is checked when the window is seen.
        let seen = try await waitForStatus(server) { $0.state == "maintenance" || $0.last_restore != nil }
        // (The restart may already have closed the listener: a refused connection says nothing.)
        if seen.state == "maintenance",
            let (_, health) = try? await server.request("GET", "/healthz", authorized: false)
        {
            #expect(health.statusCode == 200)
        }
        let back = try await waitForStatus(server) { $0.last_restore != nil && $0.state == "ready" }
        let took = Date().timeIntervalSince(started)
        #expect(back.last_restore?.outcome == .succeeded)
        #expect(frozen.closedByPeer(timeout: 5))
        // Maintenance drain, then the shutdown's drain, each bounded by the deadline; then start-up.
        #expect(took < Double(2 * drain + 10), "back after \(took) s")
        Intensity.figure(
            "drain deadline: a restore beside a frozen download was back in \(String(format: "%.1f", took)) s "
                + "(--drain-timeout \(drain))")
    }

    @Test("SIGTERM with a frozen download: the process exits 0 within the drain deadline")
    func frozenDownloadAtShutdown() async throws {
        let drain = 2
        let directory = TemporaryDirectory("live-sigterm-frozen")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(dataDirectory: directory.path, extraArguments: ["--drain-timeout", "\(drain)"])
        try await server.waitUntilReady()
        let large = try await largeBackup(directory, server)
        let frozen = try Self.freezeDownload(server, large)
        defer { frozen.close() }

        let started = Date()
        server.process.signal(SIGTERM)
        let exited = waitUntil(timeout: Double(drain + 20)) { !server.process.process.isRunning }
        let took = Date().timeIntervalSince(started)
        #expect(exited, "still running \(took) s after SIGTERM")
        guard exited else { return }
        #expect(server.process.wait().status == 0)
        #expect(took < Double(drain + 5), "exited after \(took) s")
        Intensity.figure(
            "drain deadline: SIGTERM beside a frozen download ended the process in \(String(format: "%.1f", took)) s "
                + "(--drain-timeout \(drain))")
    }

    @Test("three in-place restarts leave the process's descriptor count where it was")
    func descriptorsAcrossRestarts() async throws {
        let (directory, server, info) = try await RestoreLiveTests.prepared("live-restore-fds", megabytes: 1)
        defer { withExtendedLifetime(directory) { _ = server.terminate() } }
        let pid = server.process.pid
        var counts: [(all: Int, epoll: Int)] = []
        var previous = Date.distantPast
        for _ in 1...3 {
            let (body, accepted) = try await server.request(
                "POST", "/api/backups/\(info.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8),
                headers: ["Content-Type": "application/json"])
            #expect(accepted.statusCode == 202, "\(String(decoding: body, as: UTF8.self))")
            // Until the restart, the old image stays in maintenance: ready with a newer outcome is the new one.
            let status = try await waitForStatus(server) { status in
                status.state == "ready" && (status.last_restore?.finishedAt ?? .distantPast) > previous
            }
            previous = status.last_restore?.finishedAt ?? previous
            #expect(status.last_restore?.outcome == .succeeded, "\(status.last_restore?.error ?? "-")")
            counts.append(Self.descriptors(of: pid))
        }
        #expect(server.process.pid == pid)
        #expect(counts[2].epoll == counts[0].epoll, "epoll descriptors after restarts 1-3: \(counts.map(\.epoll))")
        #expect(counts[2].all == counts[0].all, "descriptors after restarts 1-3: \(counts.map(\.all))")
        Intensity.figure(
            "descriptors: \(counts.map(\.all)) open (\(counts.map(\.epoll)) epoll) after in-place restarts 1-3")
    }

    // MARK: - Helpers

    /// A backup of about 12 MB of random bytes, large enough to fill every socket buffer.
    func largeBackup(_ directory: TemporaryDirectory, _ server: LiveServer) async throws -> BackupInfo {
        try TestDB.execute(
            directory.dataDirectory.database.path,
            """
            CREATE TABLE IF NOT EXISTS noise(payload BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO noise(payload) SELECT randomblob(4000) FROM n;
            """)
        return try await server.backupAndWait()
    }

    /// A client that requests `backup`'s download, takes the first bytes and then never reads again.
    static func freezeDownload(_ server: LiveServer, _ backup: BackupInfo) throws -> RawConnection {
        let connection = try RawConnection(port: server.port, receiveBuffer: 4096)
        connection.send(
            "GET /api/backups/\(backup.id)/download HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(server.token)\r\n\r\n")
        let first = connection.receive(maximum: 1024, timeout: 10)
        #expect(first?.isEmpty == false, "the download did not start")
        return connection
    }

    /// The process's open descriptors, all and epoll instances.
    static func descriptors(of pid: Int32) -> (all: Int, epoll: Int) {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let targets = names.compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")
        }
        return (targets.filter { !$0.hasPrefix("socket:") }.count, targets.filter { $0.contains("eventpoll") }.count)
    }
}
