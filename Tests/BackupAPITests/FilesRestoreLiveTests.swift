import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Restore of directories through the real server: only, keep_old", .serialized)
struct FilesRestoreLiveTests {
    func backup(_ server: LiveServer, scope: String) async throws -> BackupInfo {
        let (data, response) = try await server.request(
            "POST", "/api/backups", body: Data(#"{"scope": "\#(scope)"}"#.utf8))
        #expect(response.statusCode == 202, "\(String(decoding: data, as: UTF8.self))")
        return try await server.waitForCompletion(id: try server.decode(BackupInfo.self, data).id)
    }

    @Test(
        "POST restore {only: files, keep_old: true}: the directory comes back, the database stays, the old tree is kept; bad only values are 422"
    )
    func onlyFilesKeepOld() async throws {
        let directory = TemporaryDirectory("live-files-restore")
        let app = TemporaryDirectory("live-files-app")
        let uploads = app.url.appendingPathComponent("uploads")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try SampleTree.create(at: uploads)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        let (saved, savedResponse) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"directories": ["\#(uploads.path)"]}"#.utf8))
        #expect(savedResponse.statusCode == 200, "\(String(decoding: saved, as: UTF8.self))")

        let tree = try TreeFingerprint(uploads)
        let full = try await backup(server, scope: "full")
        let database = try await backup(server, scope: "database")
        try SampleTree.change(at: uploads)
        try TestDB.execute(
            directory.dataDirectory.database.path, "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1)")
        let changedTree = try TreeFingerprint(uploads)
        let changedRows = try TestDB.fingerprint(directory.dataDirectory.database.path)

        // Refused at once, nothing started: a value that is no part, a part the backup does not hold.
        let (bogus, bogusResponse) = try await server.request(
            "POST", "/api/backups/\(full.id)/restore", body: Data(#"{"only": "everything"}"#.utf8))
        #expect(bogusResponse.statusCode == 422)
        #expect(String(decoding: bogus, as: UTF8.self).contains("must be database or files"))
        let (noFiles, noFilesResponse) = try await server.request(
            "POST", "/api/backups/\(database.id)/restore", body: Data(#"{"only": "files"}"#.utf8))
        #expect(noFilesResponse.statusCode == 422)
        #expect(String(decoding: noFiles, as: UTF8.self).contains("holds no directories"))

        let (_, started) = try await server.request(
            "POST", "/api/backups/\(full.id)/restore",
            body: Data(#"{"only": "files", "keep_old": true, "safety_backup": false}"#.utf8))
        #expect(started.statusCode == 202)
        let status = try await RestoreLiveTests().waitForStatus(server) {
            $0.last_restore != nil && $0.state == "ready"
        }
        #expect(status.last_restore?.outcome == .succeeded, "\(String(describing: status.last_restore))")
        #expect(try TreeFingerprint(uploads) == tree)
        #expect(try TestDB.fingerprint(directory.dataDirectory.database.path) == changedRows)
        let kept = app.url.appendingPathComponent("uploads.pre-restore-\(full.id)")
        #expect(try TreeFingerprint(kept) == changedTree)
        #expect(server.terminate().status == 0)
    }
}
