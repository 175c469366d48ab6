import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("What a backup's state allows: one core rule, in the JSON and enforced by the API")
struct BackupActionsTests {
    @Test(
        "actions by status",
        arguments: [
            (BackupStatus.completed, [BackupAction.download, .verify, .restore, .pin, .delete]),
            (.missing, [.verify, .pin, .delete]), (.failed, [.pin, .delete]), (.cancelled, [.pin, .delete]),
            (.pending, []), (.running, []),
        ])
    func actionsByStatus(_ status: BackupStatus, _ actions: [BackupAction]) {
        #expect(status.actions == actions)
        var record = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
        record.status = status
        #expect(record.info.actions == actions)
    }

    @Test(
        "the list carries actions; a failed backup's download link, verification and restore are 409 backup_not_completed"
    )
    func enforced() async throws {
        let directory = try RouteTests.dataDirectory("api-actions")
        try await RouteTests.app(directory).test(.router) { client in
            let done = try await RouteTests.backup(client)
            let catalog = try Catalog(dataDirectory: directory.dataDirectory)
            var failed = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
            failed.status = .failed
            try catalog.insert(failed)

            let list = try await client.execute(uri: "/api/backups", method: .get, headers: .auth)
            let body = String(buffer: list.body)
            #expect(body.contains(#""actions":["download","verify","restore","pin","delete"]"#), "\(body)")
            #expect(body.contains(#""actions":["pin","delete"]"#), "\(body)")
            #expect(try list.json(BackupsPageBody.self).items.first { $0.id == done.id }?.actions.count == 5)

            for (method, path) in [
                (HTTPRequest.Method.post, "download-link"), (.get, "download"), (.post, "verify"), (.post, "restore"),
            ] {
                let refused = try await client.execute(
                    uri: "/api/backups/\(failed.id)/\(path)", method: method, headers: .auth)
                #expect(refused.status == .conflict, "\(path)")
                #expect(refused.errorCode == "backup_not_completed", "\(path): \(String(buffer: refused.body))")
            }
        }
    }

    struct BackupsPageBody: Decodable { var items: [BackupInfo] }
}
