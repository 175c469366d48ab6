import BackupCore
import Crypto
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

@Suite("The real backup-api binary on a loopback port", .serialized)
struct LiveServerTests {
    @Test(
        "create, poll, download whole, by range and by signed link, delete, events, SIGTERM; settings survive a restart"
    )
    func endToEnd() async throws {
        let directory = TemporaryDirectory("live")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()

        // Server-Sent Events, read by a real client until the server shuts down.
        let events = try ChildProcess(executablePath: "/usr/bin/curl").start([
            "-sN", "-H", "Authorization: Bearer \(server.token)", "\(server.baseURL)/api/events",
        ])

        let (createdData, created) = try await server.request(
            "POST", "/api/backups", body: Data(#"{"note":"live"}"#.utf8))
        #expect(created.statusCode == 202)
        let pending = try server.decode(BackupInfo.self, createdData)
        #expect(created.value(forHTTPHeaderField: "Location") == "/api/backups/\(pending.id)")
        let info = try await server.waitForCompletion(id: pending.id)
        #expect(info.status == .completed)

        let (whole, wholeResponse) = try await server.request("GET", "/api/backups/\(info.id)/download")
        #expect(wholeResponse.statusCode == 200)
        #expect(SHA256.hash(data: whole).map { String(format: "%02x", $0) }.joined() == info.sha256)
        #expect(wholeResponse.value(forHTTPHeaderField: "Content-Length") == "\(whole.count)")

        let (part, partResponse) = try await server.request(
            "GET", "/api/backups/\(info.id)/download", headers: ["Range": "bytes=100-1099"])
        #expect(partResponse.statusCode == 206)
        #expect(part == whole[100...1099])

        struct Link: Decodable { var url: String }
        let link = try server.decode(
            Link.self, try await server.request("POST", "/api/backups/\(info.id)/download-link").0)
        let (linked, linkedResponse) = try await server.request("GET", link.url, authorized: false)
        #expect(linkedResponse.statusCode == 200)
        #expect(linked == whole)

        let (_, deleted) = try await server.request("DELETE", "/api/backups/\(info.id)")
        #expect(deleted.statusCode == 204)
        #expect(directory.backupFiles().isEmpty)

        let (_, put) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"enabled": true, "interval_hours": 12}"#.utf8))
        #expect(put.statusCode == 200)

        let stopped = server.terminate()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(!stopped.signalled)
        let stream = events.wait().stdout
        #expect(stream.hasPrefix("event: status\n"))
        #expect(stream.contains("\"state\":\"running\""))
        #expect(stream.contains("\"state\":\"completed\""))
        #expect(!stopped.stdout.contains(server.token) && !stopped.stderr.contains(server.token))

        let restarted = try LiveServer(dataDirectory: directory.path)
        try await restarted.waitUntilReady()
        let settings = try restarted.decode(
            BackupSettings.self, try await restarted.request("GET", "/api/settings/backup").0)
        #expect(settings.enabled)
        #expect(settings.intervalHours == 12)
        #expect(restarted.terminate().status == 0)
    }

    @Test("SIGTERM during a backup cancels it cleanly, exits 0, and leaves no partial file")
    func sigtermDuringBackup() async throws {
        let directory = TemporaryDirectory("live-sigterm")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 150)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        // The signal must land while the backup runs. On a machine loaded by the rest of the
        // suite a backup can finish between two polls: then it is deleted and another started
        // (at most three), so the test waits for a running backup instead of racing one.
        var attempt: BackupInfo?
        var running = false
        for _ in 0..<3 where !running {
            let started = try server.decode(BackupInfo.self, try await server.request("POST", "/api/backups").0)
            attempt = started
            var finished = false
            for _ in 0..<6000 where !running && !finished {
                let info = try server.decode(
                    BackupInfo.self, try await server.request("GET", "/api/backups/\(started.id)").0)
                running = info.status == .running && (info.progress?.doneBytes ?? 0) > 0
                finished = info.status == .completed
                if !running && !finished { try await Task.sleep(for: .milliseconds(5)) }
            }
            if finished { _ = try await server.request("DELETE", "/api/backups/\(started.id)") }
        }
        #expect(running)
        let pending = try #require(attempt)
        let stopped = server.terminate()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.record(id: pending.id).status == .cancelled)
        #expect(directory.backupFiles().isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("a second server on the same data directory refuses to start")
    func secondServerRefused() async throws {
        let directory = TemporaryDirectory("live-second")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let first = try LiveServer(dataDirectory: directory.path)
        try await first.waitUntilReady()
        let second = try LiveServer(dataDirectory: directory.path)
        let result = second.process.wait()
        #expect(result.status != 0)
        #expect(result.stderr.contains("another backup-api"))
        #expect(first.terminate().status == 0)
    }
}
