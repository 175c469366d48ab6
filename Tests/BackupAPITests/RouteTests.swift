import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("REST API routes through HummingbirdTesting")
struct RouteTests {
    /// A data directory with a small sample database.
    static func dataDirectory(_ label: String, megabytes: Int = 1) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: megabytes)
        return directory
    }

    static func app(_ directory: TemporaryDirectory, clock: TestClock? = nil) async throws -> some ApplicationProtocol {
        if let clock {
            return try await buildApplication(TestArguments(dataDir: directory.path), clock: clock)
        }
        return try await buildApplication(TestArguments(dataDir: directory.path))
    }

    /// Creates a backup through the API and waits for it to finish.
    static func backup(_ client: some TestClientProtocol, note: String? = nil) async throws -> BackupInfo {
        let body = note.map { ByteBuffer(string: "{\"note\": \"\($0)\"}") }
        let created = try await client.execute(uri: "/api/backups", method: .post, headers: .auth, body: body)
        #expect(created.status == .accepted)
        let info = try created.json(BackupInfo.self)
        #expect(created.headers[.location] == "/api/backups/\(info.id)")
        return try await waitUntilSettled(client, id: info.id)
    }

    static let apiRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/api/status"), (.get, "/api/events"), (.get, "/api/backups"), (.post, "/api/backups"),
        (.get, "/api/backups/stats"), (.post, "/api/backups/import"), (.get, "/api/backups/0123456789abcdef"),
        (.patch, "/api/backups/0123456789abcdef"), (.delete, "/api/backups/0123456789abcdef"),
        (.get, "/api/backups/0123456789abcdef/download"), (.post, "/api/backups/0123456789abcdef/download-link"),
        (.post, "/api/backups/0123456789abcdef/verify"), (.post, "/api/backups/0123456789abcdef/restore"),
        (.post, "/api/backups/prune"), (.get, "/api/settings/backup"), (.put, "/api/settings/backup"),
        (.post, "/api/backups/0123456789abcdef/push"), (.get, "/api/remote/backups"),
    ]

    @Test("every /api route answers 401 without a token and with a wrong one; /healthz needs none")
    func authMatrix() async throws {
        let directory = try Self.dataDirectory("api-auth")
        try await Self.app(directory).test(.router) { client in
            for (method, uri) in Self.apiRoutes {
                for headers: HTTPFields in [
                    [:], [.authorization: "Bearer wrong-token-0123456789"], [.authorization: "Basic dGVzdA=="],
                    [.authorization: "Bearer \(TestArguments.token)x"],
                ] {
                    let response = try await client.execute(uri: uri, method: method, headers: headers)
                    #expect(response.status == .unauthorized, "\(method) \(uri) with \(headers)")
                    #expect(response.errorCode == "unauthorized")
                }
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("create, show, list, patch, stats, delete")
    func backupLifecycle() async throws {
        let directory = try Self.dataDirectory("api-lifecycle")
        try await Self.app(directory).test(.router) { client in
            let info = try await Self.backup(client, note: "first")
            #expect(info.status == .completed)
            #expect(info.note == "first")
            #expect(info.sizeBytes ?? 0 > 0)

            let list = try await client.execute(uri: "/api/backups", method: .get, headers: .auth).json(ListPage.self)
            #expect(list.items.map(\.id) == [info.id])
            #expect(list.nextCursor == nil)

            let patched = try await client.execute(
                uri: "/api/backups/\(info.id)", method: .patch, headers: .auth,
                body: ByteBuffer(string: #"{"note": "kept", "pinned": true}"#))
            #expect(patched.status == .ok)
            #expect(try patched.json(BackupInfo.self).pinned)
            #expect(try patched.json(BackupInfo.self).note == "kept")
            let badPatch = try await client.execute(
                uri: "/api/backups/\(info.id)", method: .patch, headers: .auth,
                body: ByteBuffer(string: #"{"pinned": "yes"}"#))
            #expect(badPatch.status == .unprocessableContent)
            #expect(badPatch.errorFields?["pinned"] != nil)

            let stats = try await client.execute(uri: "/api/backups/stats", method: .get, headers: .auth).json(
                BackupStats.self)
            #expect(stats.count == 1)
            #expect(stats.totalBytes == info.sizeBytes)

            #expect(
                try await client.execute(uri: "/api/backups/\(info.id)", method: .delete, headers: .auth).status
                    == .noContent)
            #expect(
                try await client.execute(uri: "/api/backups/\(info.id)", method: .get, headers: .auth).status
                    == .notFound)
            #expect(
                try await client.execute(uri: "/api/backups/\(info.id)", method: .delete, headers: .auth).status
                    == .notFound)
        }
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("a second POST while a job runs is 409 backup_in_progress, also when another process holds the lock")
    func busy() async throws {
        let directory = try Self.dataDirectory("api-busy", megabytes: 4)
        // The first job waits on this lock (rollback-journal mode), so it runs while we ask.
        let database = directory.dataDirectory.database.path
        try TestDB.setJournalMode(database, "delete")
        let application = try HeldTransaction(path: database, exclusive: true)
        try await Self.app(directory).test(.router) { client in
            let first = try await client.execute(uri: "/api/backups", method: .post, headers: .auth)
            #expect(first.status == .accepted)
            let second = try await client.execute(uri: "/api/backups", method: .post, headers: .auth)
            #expect(second.status == .conflict)
            #expect(second.errorCode == "backup_in_progress")
            let status = try await client.execute(uri: "/api/status", method: .get, headers: .auth)
            #expect(String(buffer: status.body).contains("\"state\":\"busy\""))
            try application.release()
            _ = try await waitUntilSettled(client, id: try first.json(BackupInfo.self).id)

            // The CLI (another process) holds the job lock: the API is busy too.
            let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
            let third = try await client.execute(uri: "/api/backups", method: .post, headers: .auth)
            #expect(third.errorCode == "backup_in_progress")
            lock.release()
        }
    }

    @Test("DELETE on a running job cancels it: 202, then the record ends cancelled with no file")
    func cancelRunningJob() async throws {
        let directory = try Self.dataDirectory("api-cancel", megabytes: 4)
        // In rollback-journal mode an exclusive lock keeps the snapshot's first read waiting, so
        // the DELETE lands while the job runs, however slowly the machine answers it.
        let database = directory.dataDirectory.database.path
        try TestDB.setJournalMode(database, "delete")
        let lock = try HeldTransaction(path: database, exclusive: true)
        try await Self.app(directory).test(.router) { client in
            let info = try await client.execute(uri: "/api/backups", method: .post, headers: .auth).json(
                BackupInfo.self)
            let cancel = try await client.execute(uri: "/api/backups/\(info.id)", method: .delete, headers: .auth)
            #expect(cancel.status == .accepted)
            try lock.release()
            let settled = try await waitUntilSettled(client, id: info.id)
            #expect(settled.status == .cancelled)
        }
        #expect(directory.backupFiles().isEmpty)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("downloads: whole, a range (206), an unsatisfiable range (416), an unknown id (404)")
    func downloads() async throws {
        let directory = try Self.dataDirectory("api-download")
        try await Self.app(directory).test(.router) { client in
            let info = try await Self.backup(client)
            let bundle = try Data(contentsOf: directory.url.appendingPathComponent("backups/\(info.filename)"))
            let whole = try await client.execute(uri: "/api/backups/\(info.id)/download", method: .get, headers: .auth)
            #expect(whole.status == .ok)
            #expect(Data(whole.body.readableBytesView) == bundle)
            #expect(whole.headers[.contentLength] == "\(bundle.count)")
            #expect(whole.headers[.eTag] == "\"\(info.sha256!)\"")
            #expect(whole.headers[.contentDisposition]?.contains("attachment") == true)

            var headers = HTTPFields.auth
            headers[.range] = "bytes=10-109"
            let part = try await client.execute(uri: "/api/backups/\(info.id)/download", method: .get, headers: headers)
            #expect(part.status == .partialContent)
            #expect(Data(part.body.readableBytesView) == bundle[10...109])
            #expect(part.headers[.contentRange] == "bytes 10-109/\(bundle.count)")

            headers[.range] = "bytes=-50"
            let suffix = try await client.execute(
                uri: "/api/backups/\(info.id)/download", method: .get, headers: headers)
            #expect(Data(suffix.body.readableBytesView) == bundle.suffix(50))

            headers[.range] = "bytes=\(bundle.count)-"
            let outside = try await client.execute(
                uri: "/api/backups/\(info.id)/download", method: .get, headers: headers)
            #expect(outside.status == .rangeNotSatisfiable)
            #expect(outside.headers[.contentRange] == "bytes */\(bundle.count)")

            let unknown = try await client.execute(
                uri: "/api/backups/0123456789abcdef/download", method: .get, headers: .auth)
            #expect(unknown.status == .notFound)
        }
    }

    @Test("signed links download without the header; tampered, expired or another id's links are 403")
    func signedLinks() async throws {
        let directory = try Self.dataDirectory("api-links")
        let clock = TestClock()
        try await Self.app(directory, clock: clock).test(.router) { client in
            let first = try await Self.backup(client)
            let second = try await Self.backup(client)
            struct Link: Decodable {
                var url: String
                var expires_at: Date
            }
            let link = try await client.execute(
                uri: "/api/backups/\(first.id)/download-link", method: .post, headers: .auth
            ).json(Link.self)
            #expect(link.expires_at.timeIntervalSince(clock.now()) <= 300)
            let ok = try await client.execute(uri: link.url, method: .get)
            #expect(ok.status == .ok)
            #expect(ok.headers[.eTag] == "\"\(first.sha256!)\"")

            let otherID = link.url.replacingOccurrences(of: first.id, with: second.id)
            #expect(try await client.execute(uri: otherID, method: .get).status == .forbidden)
            let expires = try #require(link.url.firstMatch(of: /expires=(\d+)/)?.1).description
            let longer = link.url.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(Int(expires)! + 60)")
            #expect(try await client.execute(uri: longer, method: .get).status == .forbidden)
            #expect(try await client.execute(uri: link.url + "A", method: .get).status == .forbidden)

            clock.advance(by: 301)
            let expired = try await client.execute(uri: link.url, method: .get)
            #expect(expired.status == .forbidden)
            #expect(expired.errorCode == "link_expired")
            #expect(
                try await client.execute(
                    uri: "/api/backups/0123456789abcdef/download-link", method: .post, headers: .auth
                )
                .status == .notFound)
        }
    }

    @Test("verify runs as a job and records the outcome; a flipped byte is recorded as a failure")
    func verify() async throws {
        let directory = try Self.dataDirectory("api-verify")
        try await Self.app(directory).test(.router) { client in
            let info = try await Self.backup(client)
            func verified() async throws -> VerificationSummary {
                let started = try await client.execute(
                    uri: "/api/backups/\(info.id)/verify", method: .post, headers: .auth)
                #expect(started.status == .accepted)
                for _ in 0..<2000 {
                    let current = try await client.execute(uri: "/api/backups/\(info.id)", method: .get, headers: .auth)
                        .json(BackupInfo.self)
                    let idle = try await client.execute(uri: "/api/status", method: .get, headers: .auth)
                    if let verification = current.verification, String(buffer: idle.body).contains("\"ready\"") {
                        return verification
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                throw CancellationError()
            }
            #expect(try await verified().ok)
            let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
            var bytes = try Data(contentsOf: bundle)
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: bundle)
            let failed = try await verified()
            #expect(!failed.ok)
            #expect(failed.error?.contains("SHA-256") == true)
            #expect(
                try await client.execute(uri: "/api/backups/0123456789abcdef/verify", method: .post, headers: .auth)
                    .status
                    == .notFound)
        }
    }

    @Test("import: a bundle from another data directory is 201 imported; garbage is 422 and leaves nothing")
    func importBundle() async throws {
        let other = try Self.dataDirectory("api-import-source")
        let foreign = try await BackupService(dataDirectory: other.dataDirectory).createBackup()
        let bytes = try Data(contentsOf: other.url.appendingPathComponent("backups/\(foreign.filename)"))

        let directory = try Self.dataDirectory("api-import")
        try await Self.app(directory).test(.router) { client in
            let imported = try await client.execute(
                uri: "/api/backups/import", method: .post, headers: .auth, body: ByteBuffer(bytes: bytes))
            #expect(imported.status == .created)
            let info = try imported.json(BackupInfo.self)
            #expect(info.type == .imported)
            #expect(info.id == foreign.id)
            #expect(info.sha256 == foreign.sha256)
            let again = try await client.execute(
                uri: "/api/backups/import", method: .post, headers: .auth, body: ByteBuffer(bytes: bytes))
            #expect(again.status == .conflict)

            for garbage in [Data("not a bundle".utf8), bytes.prefix(bytes.count / 2), Data()] {
                let refused = try await client.execute(
                    uri: "/api/backups/import", method: .post, headers: .auth, body: ByteBuffer(bytes: garbage))
                #expect(refused.status == .unprocessableContent)
            }
        }
        #expect(directory.temporaryFiles().isEmpty)
        #expect(directory.backupFiles().count == 2)
    }

    @Test("settings: defaults, partial update, field errors, malformed JSON, and they survive a restart")
    func settings() async throws {
        let directory = try Self.dataDirectory("api-settings")
        try await Self.app(directory).test(.router) { client in
            let defaults = try await client.execute(uri: "/api/settings/backup", method: .get, headers: .auth)
                .json(BackupSettings.self)
            #expect(defaults == BackupSettings())
            let bad = try await client.execute(
                uri: "/api/settings/backup", method: .put, headers: .auth,
                body: ByteBuffer(
                    string: #"{"interval_hours": 0, "retention": {"keep_last": -1}, "webhook_url": "ftp://x"}"#))
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.errorFields?.keys ?? [:].keys) == ["interval_hours", "retention.keep_last", "webhook_url"])
            let malformed = try await client.execute(
                uri: "/api/settings/backup", method: .put, headers: .auth, body: ByteBuffer(string: "{nope"))
            #expect(malformed.status == .badRequest)
            let big = try await client.execute(
                uri: "/api/settings/backup", method: .put, headers: .auth,
                body: ByteBuffer(string: "{\"webhook_url\": \"\(String(repeating: "a", count: 100_000))\"}"))
            #expect(big.status == .contentTooLarge)
            let saved = try await client.execute(
                uri: "/api/settings/backup", method: .put, headers: .auth,
                body: ByteBuffer(string: #"{"enabled": true, "interval_hours": 6, "retention": {"keep_daily": 7}}"#))
            #expect(saved.status == .ok)
        }
        try await Self.app(directory).test(.router) { client in
            let settings = try await client.execute(uri: "/api/settings/backup", method: .get, headers: .auth)
                .json(BackupSettings.self)
            #expect(settings.enabled)
            #expect(settings.intervalHours == 6)
            #expect(settings.retention.keepDaily == 7)
            #expect(settings.retention.keepLast == 10)
        }
    }

    @Test(
        "traversal and injection in ids give 400 or 404 and touch no file",
        arguments: [
            "..%2f..%2fapp.sqlite", "%2e%2e", "..", "'%20OR%201=1--", "%22", "0123456789ABCDEF",
            String(repeating: "a", count: 5000),
        ])
    func hostileIDs(_ id: String) async throws {
        let directory = try Self.dataDirectory("api-hostile")
        let before = try Data(contentsOf: directory.dataDirectory.database)
        try await Self.app(directory).test(.router) { client in
            for (method, suffix) in [
                (HTTPRequest.Method.get, ""), (.delete, ""), (.patch, ""), (.get, "/download"), (.post, "/verify"),
                (.post, "/download-link"), (.post, "/restore"),
            ] {
                let response = try await client.execute(
                    uri: "/api/backups/\(id)\(suffix)", method: method, headers: .auth, body: ByteBuffer(string: "{}"))
                #expect(
                    [.badRequest, .notFound].contains(response.status), "\(method) \(id)\(suffix): \(response.status)")
            }
        }
        #expect(try Data(contentsOf: directory.dataDirectory.database) == before)
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("list queries: bad limit, type, status or cursor are 400; pages follow the cursor")
    func listQueries() async throws {
        let directory = try Self.dataDirectory("api-list")
        try await Self.app(directory).test(.router) { client in
            for query in ["limit=0", "limit=501", "limit=x", "type=weekly", "status=done", "cursor=%%%"] {
                let response = try await client.execute(uri: "/api/backups?\(query)", method: .get, headers: .auth)
                #expect(response.status == .badRequest, "\(query)")
            }
            let first = try await Self.backup(client)
            let second = try await Self.backup(client)
            let page1 = try await client.execute(uri: "/api/backups?limit=1", method: .get, headers: .auth).json(
                ListPage.self)
            #expect(page1.items.map(\.id) == [second.id])
            let cursor = try #require(page1.nextCursor)
            let page2 = try await client.execute(
                uri: "/api/backups?limit=1&cursor=\(cursor)", method: .get, headers: .auth
            )
            .json(ListPage.self)
            #expect(page2.items.map(\.id) == [first.id])
            #expect(page2.nextCursor == nil)
            let manual = try await client.execute(
                uri: "/api/backups?type=manual&status=completed", method: .get, headers: .auth)
            #expect(try manual.json(ListPage.self).items.count == 2)
        }
    }

    @Test("unknown routes are 404 JSON; status and health answer")
    func misc() async throws {
        let directory = try Self.dataDirectory("api-misc")
        try await Self.app(directory).test(.router) { client in
            let unknown = try await client.execute(uri: "/api/nothing-here", method: .get, headers: .auth)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")
            let status = try await client.execute(uri: "/api/status", method: .get, headers: .auth)
            #expect(status.status == .ok)
            #expect(String(buffer: status.body).contains("\"version\":\"\(BackupManagerVersion.current)\""))
        }
    }
}
