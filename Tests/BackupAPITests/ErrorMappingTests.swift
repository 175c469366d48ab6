import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("Core errors map to HTTP once")
struct ErrorMappingTests {
    @Test(
        "each core error has its status and keeps its code",
        arguments: [
            (BackupError.backupInProgress, 409), (.notFound(id: "x"), 404), (.invalidID("x"), 400),
            (.invalidQuery(parameter: "limit", reason: "r"), 400), (.verificationFailed(reason: "r"), 422),
            (.insufficientSpace(needed: 2, available: 1), 507), (.payloadTooLarge(size: 2, limit: 1), 413),
            (.invalidInput(fields: ["a": "b"]), 422),
            (.backupInUse(id: "x", job: .verify), 409),
            (.notCompleted(id: "x", status: .failed, action: .restore), 409),
            (.duplicateBackup(id: "x"), 409), (.pageSizeMismatch(backup: 4096, live: 1024), 409),
            (.diskFull(path: "p"), 507), (.shuttingDown, 503), (.io(path: "p", reason: "r"), 500),
            (.directoryNotConfigured(path: "/srv/x"), 409), (.pathInTheWay(path: "/srv/x.pre-restore-1"), 409),
        ])
    func mapping(_ error: BackupError, _ status: Int) {
        let mapped = APIError(error)
        #expect(mapped.status.code == status)
        #expect(mapped.code == error.code)
        if case .invalidInput(let fields) = error { #expect(mapped.fields == fields) }
    }

    @Test("conflicts: verify while busy, delete of another process's running job, a bad note")
    func conflicts() async throws {
        let directory = try RouteTests.dataDirectory("api-conflicts")
        try await RouteTests.app(directory).test(.router) { client in
            let info = try await RouteTests.backup(client)
            let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
            let verify = try await client.execute(uri: "/api/backups/\(info.id)/verify", method: .post, headers: .auth)
            #expect(verify.status == .conflict)
            #expect(verify.errorCode == "backup_in_progress")
            lock.release()

            // A record another process is working on: this server cannot cancel it.
            let catalog = try Catalog(dataDirectory: directory.dataDirectory)
            var foreign = BackupRecord(id: BackupID.make(), type: .manual, createdAt: Date(), note: nil)
            foreign.status = .running
            try catalog.insert(foreign)
            let delete = try await client.execute(uri: "/api/backups/\(foreign.id)", method: .delete, headers: .auth)
            #expect(delete.status == .conflict)
            #expect(delete.errorCode == "backup_in_use")

            let badNote = try await client.execute(
                uri: "/api/backups", method: .post, headers: .auth, body: ByteBuffer(string: #"{"note": "a\u0000b"}"#))
            #expect(badNote.status == .unprocessableContent)
            #expect(badNote.errorFields?["note"] != nil)
            let wrongType = try await client.execute(
                uri: "/api/backups", method: .post, headers: .auth, body: ByteBuffer(string: #"{"note": 5}"#))
            #expect(wrongType.status == .unprocessableContent)
            let notJSON = try await client.execute(
                uri: "/api/backups", method: .post, headers: .auth, body: ByteBuffer(string: "[1, 2]"))
            #expect(notJSON.status == .badRequest)
        }
    }
}
