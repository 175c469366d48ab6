import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("API: settings directories, exclude, default_scope, per_scope; POST /api/backups scope; ?scope=")
struct ScopesAPITests {
    static func send(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil
    ) async throws -> TestResponse {
        try await client.execute(uri: uri, method: method, headers: .auth, body: body.map { ByteBuffer(string: $0) })
    }

    @Test("GET shows the new fields' defaults; a bad directory is 422 naming directories[N]; a good list is saved")
    func settingsFields() async throws {
        let directory = try RouteTests.dataDirectory("api-scope-settings")
        let outside = TemporaryDirectory("api-scope-app")
        let uploads = outside.url.appendingPathComponent("uploads").path
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        try await RouteTests.app(directory).test(.router) { client in
            let shown = String(buffer: try await Self.send(client, .get, "/api/settings/backup").body)
            #expect(shown.contains(#""directories":[]"#) && shown.contains(#""exclude":[]"#), "\(shown)")
            #expect(shown.contains(#""default_scope":null"#) && shown.contains(#""per_scope":false"#), "\(shown)")

            let inside = directory.url.appendingPathComponent("inside").path
            try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
            let bad = try await Self.send(
                client, .put, "/api/settings/backup",
                #"{"directories": ["\#(uploads)", "\#(outside.path)/gone", "\#(inside)"], "exclude": [""]}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(
                bad.errorFields == [
                    "directories[1]": "\(outside.path)/gone does not exist",
                    "directories[2]": "\(inside) is inside the data directory \(directory.path)",
                    "exclude[0]": "must not be empty",
                ])
            let scopeless = try await Self.send(client, .put, "/api/settings/backup", #"{"default_scope": "files"}"#)
            #expect(scopeless.status == .unprocessableContent)
            #expect(scopeless.errorFields?["default_scope"]?.contains("no directories are configured") == true)

            let good = try await Self.send(
                client, .put, "/api/settings/backup",
                #"{"directories": ["\#(uploads)/"], "exclude": ["*.tmp"], "default_scope": "files", "retention": {"per_scope": true}}"#
            )
            #expect(good.status == .ok)
            let saved = try good.json(BackupSettings.self)
            #expect(saved.directories == [uploads] && saved.exclude == ["*.tmp"] && saved.defaultScope == .files)
            #expect(saved.retention.perScope)
            // What a GET answers can be sent back as it is.
            let again = try await Self.send(
                client, .put, "/api/settings/backup",
                String(buffer: try await Self.send(client, .get, "/api/settings/backup").body))
            #expect(again.status == .ok)
        }
    }

    @Test("POST /api/backups: a bad scope and files without directories are 422 naming scope; ?scope= is checked")
    func createAndListScope() async throws {
        let directory = try RouteTests.dataDirectory("api-scope-create")
        try await RouteTests.app(directory).test(.router) { client in
            let unknown = try await Self.send(client, .post, "/api/backups", #"{"scope": "everything"}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.errorFields == ["scope": "must be database, files or full"])
            for scope in ["files", "full"] {
                let refused = try await Self.send(client, .post, "/api/backups", #"{"scope": "\#(scope)"}"#)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.errorFields?["scope"]?.contains("no directories are configured") == true)
            }
            let listed = try await Self.send(client, .get, "/api/backups")
            #expect(try listed.json(ListPage.self).items.isEmpty, "nothing was recorded")

            let database = try await Self.send(client, .post, "/api/backups", #"{"scope": "database"}"#)
            #expect(database.status == .accepted)
            let made = try await waitUntilSettled(client, id: try database.json(BackupInfo.self).id)
            #expect(made.status == .completed && made.scope == .database && made.sourceWarnings.isEmpty)

            let page = try await Self.send(client, .get, "/api/backups?scope=database")
            #expect(try page.json(ListPage.self).items.map(\.id) == [made.id])
            let none = try await Self.send(client, .get, "/api/backups?scope=files")
            #expect(try none.json(ListPage.self).items.isEmpty)
            let bad = try await Self.send(client, .get, "/api/backups?scope=all")
            #expect(bad.status == .badRequest)

            let stats = String(buffer: try await Self.send(client, .get, "/api/backups/stats").body)
            #expect(stats.contains(#""files":{"count":0,"last_success_at":null,"total_bytes":0}"#), "\(stats)")
        }
    }

    @Test("with a directory: scope files holds it alone, no scope is full (automatic), ?scope= and stats follow")
    func filesThroughTheAPI() async throws {
        let directory = try RouteTests.dataDirectory("api-scope-files")
        let outside = TemporaryDirectory("api-scope-files-app")
        let uploads = outside.url.appendingPathComponent("uploads")
        try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
        try Data("avatar".utf8).write(to: uploads.appendingPathComponent("a.png"))
        try await RouteTests.app(directory).test(.router) { client in
            let saved = try await Self.send(
                client, .put, "/api/settings/backup", #"{"directories": ["\#(uploads.path)"]}"#)
            #expect(saved.status == .ok)

            let files = try await Self.send(client, .post, "/api/backups", #"{"scope": "files"}"#)
            #expect(files.status == .accepted)
            #expect(try files.json(BackupInfo.self).scope == .files, "the pending record says its scope")
            let made = try await waitUntilSettled(client, id: try files.json(BackupInfo.self).id)
            #expect(made.status == .completed && made.scope == .files, "\(made)")
            let full = try await RouteTests.backup(client)
            #expect(full.status == .completed && full.scope == .full)

            let listed = try await Self.send(client, .get, "/api/backups?scope=files")
            #expect(try listed.json(ListPage.self).items.map(\.id) == [made.id])
            let stats = try await Self.send(client, .get, "/api/backups/stats").json(BackupStats.self)
            #expect(stats.scopes["files"]?.count == 1 && stats.scopes["full"]?.count == 1)
            #expect(stats.scopes["database"]?.count == 0 && stats.scopes["files"]?.lastSuccessAt != nil)
        }
    }
}
