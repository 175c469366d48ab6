import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("API: settings that prune are previewed, strict bodies, one note limit, generated notes, wrong token")
struct SettingsUXTests {
    static func put(_ client: some TestClientProtocol, _ uri: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .put, headers: .auth, body: ByteBuffer(string: body))
    }

    @Test("PUT ?dry_run=true answers the settings and would_delete and saves nothing; a real PUT names what it deleted")
    func dryRunThenSave() async throws {
        let directory = try RouteTests.dataDirectory("api-settings-dry-run")
        try await RouteTests.app(directory).test(.router) { client in
            var made: [BackupInfo] = []
            for _ in 0..<3 { made.append(try await RouteTests.backup(client)) }
            let change = #"{"retention": {"keep_last": 1, "include_manual": true}}"#

            let dry = try await Self.put(client, "/api/settings/backup?dry_run=true", change)
            #expect(dry.status == .ok)
            let preview = try dry.json(SettingsChange.Preview.self)
            #expect(preview.settings.retention.keepLast == 1 && preview.settings.retention.includeManual)
            #expect(preview.wouldDelete.map(\.id) == [made[1].id, made[0].id])
            #expect(preview.wouldDelete.first?.sizeBytes == made[1].sizeBytes, "whole BackupInfo objects")
            #expect(dry.headers[SettingsController<BasicRequestContext>.deletedHeader] == nil)
            let unchanged = try await client.execute(uri: "/api/settings/backup", method: .get, headers: .auth)
            #expect(try unchanged.json(BackupSettings.self) == BackupSettings())
            #expect(directory.backupFiles().count == 6)

            let bad = try await Self.put(client, "/api/settings/backup?dry_run=maybe", change)
            #expect(bad.status == .badRequest)
            let invalid = try await Self.put(client, "/api/settings/backup?dry_run=true", #"{"interval_hours": 0}"#)
            #expect(invalid.status == .unprocessableContent)

            let saved = try await Self.put(client, "/api/settings/backup", change)
            #expect(saved.status == .ok)
            #expect(try saved.json(BackupSettings.self) == preview.settings, "the body stays the settings")
            #expect(
                saved.headers[SettingsController<BasicRequestContext>.deletedHeader]
                    == "\(made[1].id), \(made[0].id)")
            #expect(directory.backupFiles().count == 2)

            let again = try await Self.put(client, "/api/settings/backup", change)
            #expect(again.status == .ok)
            #expect(again.headers[SettingsController<BasicRequestContext>.deletedHeader] == nil)
        }
    }

    @Test("unknown and read-only fields are 422 naming them, and change nothing")
    func strictBodies() async throws {
        let directory = try RouteTests.dataDirectory("api-strict-bodies")
        try await RouteTests.app(directory).test(.router) { client in
            let info = try await RouteTests.backup(client, note: "kept")
            let cases: [(HTTPRequest.Method, String, String, [String: String])] = [
                (.put, "/api/settings/backup", #"{"intervall_hours": 2}"#, ["intervall_hours": "unknown field"]),
                (
                    .put, "/api/settings/backup?dry_run=true", #"{"retention": {"keep_lst": 1}, "enabled": true}"#,
                    ["retention.keep_lst": "unknown field"]
                ),
                (.patch, "/api/backups/\(info.id)", #"{"size_bytes": 1}"#, ["size_bytes": "read-only field"]),
                (
                    .patch, "/api/backups/\(info.id)", #"{"note": "x", "colour": "red", "note_kind": "pre_restore"}"#,
                    ["colour": "unknown field", "note_kind": "read-only field"]
                ),
                (.post, "/api/backups", #"{"note": "x", "type": "auto"}"#, ["type": "read-only field"]),
                (.post, "/api/backups", #"{"notes": "x"}"#, ["notes": "unknown field"]),
                (.post, "/api/backups/\(info.id)/restore", #"{"safety": false}"#, ["safety": "unknown field"]),
            ]
            for (method, uri, body, fields) in cases {
                let response = try await client.execute(
                    uri: uri, method: method, headers: .auth, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(method) \(uri) \(body)")
                #expect(response.errorCode == "validation_failed", "\(method) \(uri) \(body)")
                #expect(response.errorFields == fields, "\(method) \(uri) \(body)")
            }
            let settings = try await client.execute(uri: "/api/settings/backup", method: .get, headers: .auth)
            #expect(try settings.json(BackupSettings.self) == BackupSettings())
            let record = try await client.execute(uri: "/api/backups/\(info.id)", method: .get, headers: .auth)
            #expect(try record.json(BackupInfo.self) == info)
            let list = try await client.execute(uri: "/api/backups", method: .get, headers: .auth)
            #expect(try list.json(ListPage.self).items.count == 1)

            // What GET answers can be sent back as it is.
            let roundTrip = try await Self.put(client, "/api/settings/backup", String(buffer: settings.body))
            #expect(roundTrip.status == .ok)
        }
    }

    @Test("notes are limited to 500 characters on create and on PATCH, by the core's rule")
    func noteLimit() async throws {
        let directory = try RouteTests.dataDirectory("api-note-limit")
        try await RouteTests.app(directory).test(.router) { client in
            let tooLong = String(repeating: "n", count: 501)
            let create = try await client.execute(
                uri: "/api/backups", method: .post, headers: .auth,
                body: ByteBuffer(string: "{\"note\": \"\(tooLong)\"}"))
            #expect(create.status == .unprocessableContent)
            #expect(create.errorFields == ["note": "must be at most 500 characters"])
            #expect(directory.backupFiles().isEmpty)

            let info = try await RouteTests.backup(client, note: String(repeating: "n", count: 500))
            #expect(info.note?.count == 500)
            let patch = try await client.execute(
                uri: "/api/backups/\(info.id)", method: .patch, headers: .auth,
                body: ByteBuffer(string: "{\"note\": \"\(tooLong)\"}"))
            #expect(patch.status == .unprocessableContent)
            #expect(patch.errorFields == ["note": "must be at most 500 characters"])
        }
    }

    @Test("a safety backup carries note_kind pre_restore and the restored id; its note stays null")
    func generatedNote() async throws {
        let directory = try RouteTests.dataDirectory("api-note-kind")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let restored = try await service.createBackup(note: "before the upgrade")
        let outcome = try await service.runRestore(try service.prepareRestore(.backup(id: restored.id)))
        service.catalog.close()
        try await RouteTests.app(directory).test(.router) { client in
            let list = try await client.execute(uri: "/api/backups?type=pre-restore", method: .get, headers: .auth)
            let body = String(buffer: list.body)
            #expect(
                body.contains(#""note":null,"note_args":{"backup_id":"\#(restored.id)"},"note_kind":"pre_restore""#))
            let safety = try #require(try list.json(ListPage.self).items.first)
            #expect(safety.id == outcome.safetyBackupID)
            #expect(safety.noteKind == .preRestore && safety.noteArgs == ["backup_id": restored.id])
            let mine = try await client.execute(uri: "/api/backups/\(restored.id)", method: .get, headers: .auth)
            #expect(
                String(buffer: mine.body).contains(#""note":"before the upgrade","note_args":null,"note_kind":null"#))
        }
    }

    @Test("signing in with a wrong token is 401 wrong_token, not the bearer-token message")
    func wrongToken() async throws {
        let directory = try RouteTests.dataDirectory("api-wrong-token")
        try await RouteTests.app(directory).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"token": "not-the-token-0123"}"#))
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "wrong_token")
            #expect(String(buffer: response.body).contains(#""message":"wrong token""#))
        }
    }
}
