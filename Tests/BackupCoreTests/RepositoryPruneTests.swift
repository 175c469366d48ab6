import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Prune and the repository: retention deletes indexes, then garbage collection frees packs")
struct RepositoryPruneTests {
    static func chunk(_ seed: Int) -> [UInt8] { HandBuiltRepository.chunk(seed) }

    @Test("prune deletes the old incremental backup's index, then the pack only it used; the dry run says so first")
    func pruneCollects() throws {
        let repository = try HandBuiltRepository("prune-repository")
        let shared = (0..<4).map { Self.chunk($0) }
        let old = (4..<8).map { Self.chunk($0) }
        let sharedPack = try repository.addPack(shared)
        let oldPack = try repository.addPack(old)
        let oldSize = try #require(FileOps.size(of: repository.packURL(oldPack)))
        let first = try repository.addBackup(shared + old, createdAt: Date(timeIntervalSinceNow: -3600))
        let second = try repository.addBackup(shared)
        var settings = try repository.catalog.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        try repository.catalog.saveSettings(settings, now: Date())

        let dry = try repository.service.prune(dryRun: true)
        #expect(dry.deleted.map(\.id) == [first])
        #expect(dry.repository?.packsDeleted == 1 && dry.repository?.bytesFreed == oldSize)
        #expect(FileManager.default.fileExists(atPath: repository.indexURL(first).path))
        #expect(try repository.packFiles() == [sharedPack, oldPack])

        let report = try repository.service.prune()
        #expect(report.deleted.map(\.id) == [first])
        #expect(report.repository == dry.repository)
        #expect(!FileManager.default.fileExists(atPath: repository.indexURL(first).path))
        #expect(throws: BackupError.notFound(id: first)) { try repository.catalog.record(id: first) }
        #expect(try repository.packFiles() == [sharedPack])
        #expect(try repository.catalog.record(id: second).status == .completed)
        #expect(try repository.everyIndexReadable())
        #expect(try repository.isClean())
    }

    @Test("without a repository the report has none; a prune that cannot read an index fails and says so in the stats")
    func noRepositoryAndFailure() throws {
        let directory = TemporaryDirectory("prune-no-repository")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        #expect(try service.prune().repository == nil)

        let repository = try HandBuiltRepository("prune-bad-index")
        let id = try repository.addBackup([Self.chunk(1)])
        try repository.addPack([Self.chunk(1)])
        try Data("damaged".utf8).write(to: repository.indexURL(id))
        let error = #expect(throws: BackupError.self) { try repository.service.prune() }
        guard case .verificationFailed(let reason) = error else {
            Issue.record("not a verification failure: \(String(describing: error))")
            return
        }
        #expect(reason.contains(id))
        #expect(try repository.catalog.retentionFailure()?.error.contains(id) == true)
        #expect(try repository.packFiles().count == 1)
    }
}
