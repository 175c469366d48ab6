import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server's side of off-site copies, against a real S3 server (moto, signatures checked):
/// the upload job after a backup, push, the bucket's listing, a remote-only download, and a
/// restart after a kill mid-upload.
@Suite("backup-api off-site copies against a real S3 server (moto), as real processes", .serialized)
struct OffsiteReplicationLiveTests {
    static let noEnvironment = MotoServer.noEnvironment
    /// Threads of their own for a poll that must look promptly: in a full make test the
    /// cooperative pool's two threads are queued behind hundreds of tests.
    static let pollThreads = BlockingThreads(count: 1, name: "offsite-poll")
    let backup = try! ChildProcess(product: "backup")

    /// Points `directory` at `moto`'s bucket through the CLI (the secret from standard input).
    func configure(_ directory: TemporaryDirectory, _ moto: MotoServer) throws {
        let set = try moto.configure(directory, with: backup)
        #expect(set.status == 0, "\(set.stderr)")
    }

    /// Polls backup `id` until its off-site copy is `status`.
    func waitForOffsite(_ server: LiveServer, _ id: String, _ status: OffsiteStatus) async throws -> BackupInfo {
        for _ in 0..<3000 {
            let info = try server.decode(BackupInfo.self, try await server.request("GET", "/api/backups/\(id)").0)
            if info.offsite.status == status { return info }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CancellationError()
    }

    @Test(
        "a backup through the API is followed by an upload job (events: kind upload); push is 202; the bucket lists; a remote-only download is a 307 to a presigned URL"
    )
    func uploadJobPushListAndRedirect() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("live-offsite")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        try configure(directory, moto)
        let server = try LiveServer(dataDirectory: directory.path, environment: Self.noEnvironment)
        try await server.waitUntilReady()
        let output = directory.url.appendingPathComponent("events.txt")
        let events = try ChildProcess(executablePath: "/usr/bin/curl").start([
            "-sN", "-o", output.path, "-H", "Authorization: Bearer \(server.token)", "\(server.baseURL)/api/events",
        ])
        #expect(waitUntil { ((try? String(contentsOf: output, encoding: .utf8)) ?? "").hasPrefix("event: status") })

        let made = try await server.backupAndWait()
        let uploaded = try await waitForOffsite(server, made.id, .uploaded)
        #expect(uploaded.offsite.key == "backups/\(made.filename)")
        #expect(try await moto.read(key: "backups/\(made.filename)").sha256 == made.sha256)
        let stream = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        #expect(
            waitUntil { stream().contains(#""kind":"upload""#) && stream().contains(#""phase":"upload""#) },
            "\(stream().suffix(2000))")

        // Push again: 202 with the record, and the copy is confirmed again.
        let (body, pushed) = try await server.request("POST", "/api/backups/\(made.id)/push")
        #expect(pushed.statusCode == 202, "\(String(decoding: body, as: UTF8.self))")
        _ = try await server.waitForCompletion(id: made.id)
        #expect(try await waitForOffsite(server, made.id, .uploaded).offsite.uploadedAt != nil)

        // The bucket as the server lists it.
        let (listing, listed) = try await server.request("GET", "/api/remote/backups")
        #expect(listed.statusCode == 200, "\(String(decoding: listing, as: UTF8.self))")
        struct Listing: Decodable { var items: [RemoteBackup] }
        let items = try server.decode(Listing.self, listing).items
        #expect(items.map(\.id) == [made.id])
        #expect(items.first?.local == true)

        #expect(server.terminate().status == 0)
        _ = events.wait()

        // Local retention drops the local bundle of the uploaded backup: remote-only, and its
        // download is a redirect to the bucket.
        let second = try await LiveServerRun.remoteOnly(made, in: directory, backup: backup)
        defer { _ = second.terminate() }
        let redirect = try ChildProcess(executablePath: "/usr/bin/curl").run([
            "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H",
            "Authorization: Bearer \(second.token)",
            "\(second.baseURL)/api/backups/\(made.id)/download",
        ])
        let parts = redirect.stdout.split(separator: " ", maxSplits: 1).map(String.init)
        #expect(parts.first == "307", "\(redirect.stdout)")
        let location = parts.count > 1 ? parts[1] : ""
        #expect(
            location.hasPrefix("\(moto.endpoint.absoluteString)/\(moto.bucket)/backups/\(made.filename)?"),
            "\(location)")
        #expect(location.contains("X-Amz-Signature="))
        #expect(!location.contains(moto.credentials.secretAccessKey))

        // The API's restore of the remote-only backup fetches it from the bucket, verifies it and
        // restores it (the rows written since are gone).
        let database = directory.dataDirectory.database.path
        try TestDB.execute(database, "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1)")
        let (restoreBody, restoring) = try await second.request(
            "POST", "/api/backups/\(made.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(restoring.statusCode == 202, "\(String(decoding: restoreBody, as: UTF8.self))")
        let status = try await RestoreLiveTests().waitForStatus(second) {
            $0.last_restore != nil && $0.state == "ready"
        }
        #expect(status.last_restore?.outcome == .succeeded, "\(status.last_restore?.error ?? "-")")
        #expect(try TestDB.strings(database, "SELECT COUNT(*) FROM ledger WHERE pair = 9") == ["0"])
        #expect(!directory.backupFiles().contains(made.filename), "restored from the bucket, not kept locally")
    }

    @Test(
        "kill -9 mid-upload: the next start aborts the stale multipart upload and uploads again; the local bundle is intact"
    )
    func killedMidUpload() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("live-offsite-kill")
        // Incompressible, so the bundle is large enough for a multipart upload (parts of 16 MiB).
        let queue = try DatabaseQueue(path: directory.dataDirectory.database.path)
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE blob(id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 14000)
                    INSERT INTO blob(payload) SELECT randomblob(4000) FROM n
                    """)
        }
        try queue.close()
        try configure(directory, moto)
        let client = try S3Client(location: moto.location, credentials: moto.credentials)
        defer { Task { await client.shutdown() } }

        let create = try backup.start(
            ["create", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        // Killed as soon as the multipart upload shows, polled on threads of its own: a poll
        // woken late by a busy pool let the upload complete before the kill.
        let caught = await withTaskExecutorPreference(Self.pollThreads) {
            for _ in 0..<20000 where create.process.isRunning {
                if let uploads = try? await client.multipartUploads(prefix: "backups/"), !uploads.isEmpty {
                    create.signal(SIGKILL)
                    return true
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return false
        }
        let killed = create.wait()
        try #require(caught, "the upload ended before it could be caught: \(killed.stderr)")
        #expect(killed.signalled)
        let records = try JSONDecoder.backupManager().decode(
            [BackupInfo].self,
            from: Data(try backup.run(["list", "--json", "--data-dir", directory.path]).stdout.utf8))
        let made = try #require(records.first)
        #expect(made.status == .completed)
        #expect(made.offsite.status == .uploading)
        #expect(try await !client.multipartUploads(prefix: "backups/").isEmpty)

        // The next start: stale multipart uploads aborted, the upload made again from the start.
        let server = try LiveServer(dataDirectory: directory.path, environment: Self.noEnvironment)
        defer { _ = server.terminate() }
        try await server.waitUntilReady()
        let uploaded = try await waitForOffsite(server, made.id, .uploaded)
        #expect(try await moto.read(key: "backups/\(made.filename)").sha256 == made.sha256)
        #expect(try await moto.multipartUploads().isEmpty)
        #expect(uploaded.sha256 == made.sha256)
        // The local bundle is intact.
        let bundle = directory.dataDirectory.backups.appendingPathComponent(made.filename)
        let sum = try ChildProcess(executablePath: "/usr/bin/sha256sum").run([bundle.path])
        #expect(sum.stdout.hasPrefix(made.sha256 ?? "-"))
    }
}

/// Helpers for a second server run on the same data directory.
enum LiveServerRun {
    /// Makes `made` remote-only through local retention (keep_last=1, include_manual, a newer
    /// backup made by the CLI with off-site copies off so it has no copy), then starts a server.
    static func remoteOnly(
        _ made: BackupInfo, in directory: TemporaryDirectory, backup: ChildProcess
    ) async throws
        -> LiveServer
    {
        let environment = OffsiteReplicationLiveTests.noEnvironment
        #expect(
            try backup.run(
                ["settings", "set", "offsite.enabled=false", "--yes", "--data-dir", directory.path],
                environment: environment
            ).status == 0)
        #expect(try backup.run(["create", "--data-dir", directory.path], environment: environment).status == 0)
        #expect(
            try backup.run(
                ["settings", "set", "keep_last=1", "include_manual=true", "--yes", "--data-dir", directory.path],
                environment: environment
            ).status == 0)
        let shown = try JSONDecoder.backupManager().decode(
            BackupInfo.self,
            from: Data(try backup.run(["show", made.id, "--json", "--data-dir", directory.path]).stdout.utf8))
        #expect(shown.offsite.status == .uploaded)
        #expect(!directory.backupFiles().contains(made.filename))
        #expect(
            try backup.run(
                ["settings", "set", "offsite.enabled=true", "--yes", "--data-dir", directory.path],
                environment: environment
            ).status == 0)
        let server = try LiveServer(dataDirectory: directory.path, environment: environment)
        try await server.waitUntilReady()
        return server
    }
}
