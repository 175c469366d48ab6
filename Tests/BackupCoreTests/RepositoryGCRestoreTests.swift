import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("After garbage collection the kept incremental backup verifies with --read-data and restores exactly")
struct RepositoryGCRestoreTests {
    static func print(_ path: String) throws -> String {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT count(*) || ':' || sum(amount) || ':' || group_concat(memo) FROM ledger") ?? ""
        }
    }

    @Test("verify --read-data and restore after delete + prune")
    func afterGC() async throws {
        let (fixture, made) = try await RepositoryGCEndToEndTests.threeBackups()
        let service = fixture.service
        let expected = try Self.print(fixture.database.path)
        try service.delete(id: made[0].id)
        try service.delete(id: made[1].id)
        let report = try #require(try service.prune().repository)
        #expect(report.packsRepacked >= 1 && report.packsDeleted >= 1)
        #expect(try await service.verify(id: made[2].id).isValid)
        let full = try await service.verify(id: made[2].id, readData: true)
        #expect(full.isValid, "\(full.problems)")
        try RepositoryGCEndToEndTests.change("DELETE FROM ledger WHERE id % 2 = 0", in: fixture)
        #expect(try Self.print(fixture.database.path) != expected)
        let prepared = try service.prepareRestore(.backup(id: made[2].id))
        try await service.runRestore(prepared)
        #expect(try Self.print(fixture.database.path) == expected)
    }
}
