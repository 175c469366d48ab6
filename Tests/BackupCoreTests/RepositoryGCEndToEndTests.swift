import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Repository garbage collection on the writer's own repository: delete, prune, the rest reads back whole")
struct RepositoryGCEndToEndTests {
    typealias Fixture = RepositoryWriterTests.Fixture
    static let rows = 50_000

    /// Three incremental backups: `first`; then every row changed (`second` shares almost no
    /// chunk with it); then 70% of the rows changed in one range (`third` shares 30% with
    /// `second`). Deleting the first two leaves the first's pack dead and the second's 30% live.
    static func threeBackups(encrypted: Bool = false) async throws -> (Fixture, [BackupInfo]) {
        let fixture = try Fixture(rows: rows)
        if encrypted {
            _ = try BackupKey(dataDirectory: fixture.data.dataDirectory).generate(now: Date())
            var settings = try fixture.service.catalog.settings()
            settings.encryption.enabled = true
            try fixture.service.saveSettings(settings)
        }
        var made = [try await fixture.service.createBackup()]
        try change("UPDATE ledger SET amount = amount + 1", in: fixture)
        made.append(try await fixture.service.createBackup())
        try change("UPDATE ledger SET memo = hex(randomblob(40)) WHERE id <= \(rows * 7 / 10)", in: fixture)
        made.append(try await fixture.service.createBackup())
        return (fixture, made)
    }

    static func change(_ sql: String, in fixture: Fixture) throws {
        let queue = try DatabaseQueue(path: fixture.database.path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    /// The backup's files put back together from the packs give its manifest's SHA-256s.
    static func readsBackWhole(_ info: BackupInfo, _ fixture: Fixture) throws -> Bool {
        let index = try fixture.index(of: info)
        let expected = Dictionary(
            uniqueKeysWithValues: index.manifest.entries.filter { $0.type == .file }.map { ($0.path, $0.sha256!) })
        return try fixture.reassembled(index) == expected
    }

    static func packBytes(_ fixture: Fixture) -> Int64 {
        let packs = fixture.repository.appendingPathComponent(RepositoryLayout.packsFolder)
        return fixture.packFiles().reduce(Int64(0)) { total, name in
            total + (FileOps.size(of: packs.appendingPathComponent("\(name.prefix(2))/\(name).pack")) ?? 0)
        }
    }

    /// The catalog lists exactly the pack files, and every pack is at least half live.
    static func isClean(_ fixture: Fixture) throws -> Bool {
        let catalog = fixture.service.catalog
        guard Set(try catalog.repositoryPacks().map(\.name)) == fixture.packFiles() else { return false }
        let live = try LiveChunks(repository: fixture.repository) { (url) throws(BackupError) in
            try RepositoryGC.readPlainIndex(at: url)
        }
        for pack in try catalog.repositoryPacks() {
            let rows = try catalog.chunkRows(ofPack: pack.name)
            let liveHashes = try live.filter(rows.map(\.sha256))
            let liveBytes = rows.filter { liveHashes.contains($0.sha256) }.reduce(Int64(0)) { $0 + $1.length }
            if liveBytes * 2 < pack.sizeBytes { return false }
        }
        return true
    }

    @Test("deleting two backups and pruning deletes the dead pack, repacks the mostly dead one, frees what it says")
    func deleteThenPrune() async throws {
        let (fixture, made) = try await Self.threeBackups()
        let service = fixture.service
        let before = Self.packBytes(fixture)
        let packsBefore = fixture.packFiles()
        try service.delete(id: made[0].id)
        try service.delete(id: made[1].id)
        #expect(fixture.packFiles() == packsBefore, "deleting a backup leaves its packs to prune")

        let dry = try #require(try service.prune(dryRun: true).repository)
        let report = try #require(try service.prune().repository)

        #expect(report.packsDeleted >= 1 && report.packsRepacked >= 1, "\(report)")
        #expect(dry.packsDeleted == report.packsDeleted && dry.packsRepacked == report.packsRepacked)
        #expect(before - Self.packBytes(fixture) == report.bytesFreed)
        #expect(report.bytesFreed > before / 3, "\(report.bytesFreed) of \(before)")
        #expect(try Self.readsBackWhole(made[2], fixture))
        #expect(try Self.isClean(fixture))
        #expect(fixture.data.temporaryFiles().isEmpty)
        #expect(try service.prune().repository == RepositoryGCReport())
        // The next backup still deduplicates against what is left.
        let next = try await service.createBackup()
        #expect(try Self.readsBackWhole(next, fixture))
        #expect(try #require(service.catalog.record(id: next.id).sizeBytes) < report.bytesFreed / 10)
    }

    @Test(
        "a collection stopped at each step on a real repository leaves the remaining backup whole; the next prune ends clean",
        arguments: [RepositoryGC.Step.deadRowsDeleted, .repackPlaced, .repackMoved])
    func stoppedThenPrune(at step: RepositoryGC.Step) async throws {
        let (fixture, made) = try await Self.threeBackups()
        let service = fixture.service
        try service.delete(id: made[0].id)
        try service.delete(id: made[1].id)
        var gc = RepositoryGC(
            catalog: service.catalog, root: fixture.repository, temporary: fixture.data.dataDirectory.temporary,
            level: 3, now: Date())
        gc.interruption = { (reached) throws(BackupError) in if reached == step { throw .cancelled } }
        #expect(throws: BackupError.cancelled) { try gc.run(dryRun: false) }
        #expect(try Self.readsBackWhole(made[2], fixture))

        let report = try #require(try service.prune().repository)
        #expect(report.packsLost.isEmpty && report.backupsMissing.isEmpty)
        #expect(try Self.readsBackWhole(made[2], fixture))
        #expect(try Self.isClean(fixture))
        #expect(try service.catalog.record(id: made[2].id).status == .completed)
    }

    @Test(
        "an encrypted repository: indexes and packs opened with the repository's key, dead packs go, the repack is sealed"
    )
    func encryptedRepository() async throws {
        let (fixture, made) = try await Self.threeBackups(encrypted: true)
        let service = fixture.service
        #expect(made.allSatisfy { $0.filename.hasSuffix(".json.zst.age") })
        let packs = fixture.repository.appendingPathComponent(RepositoryLayout.packsFolder)
        let files = {
            Set(
                (FileManager.default.enumerator(atPath: packs.path)?.allObjects as? [String] ?? []).filter {
                    $0.hasSuffix(".pack.age")
                })
        }
        let before = files()
        try service.delete(id: made[0].id)
        try service.delete(id: made[1].id)

        let report = try #require(try service.prune().repository)

        #expect(report.packsDeleted >= 1 && report.packsRepacked >= 1, "\(report)")
        #expect(report.packsLost.isEmpty && report.backupsMissing.isEmpty)
        let after = files()
        #expect(after.count == before.count - report.packsDeleted - report.packsRepacked + 1)
        #expect(fixture.data.temporaryFiles().isEmpty)
        // The kept backup reassembles from the sealed packs, each opened with the repository's key.
        let opener = RepositoryIndexOpener(repository: fixture.repository) { () throws(BackupError) in
            try service.bundleKeys().load()
        }
        let index = try opener.read(fixture.repository.appendingPathComponent("index/\(made[2].filename)"))
        let locator = CatalogChunkLocator(catalog: service.catalog)
        var opened: [String: URL] = [:]
        for file in index.files {
            var hash = SHA256()
            for chunk in file.chunks {
                let location = try #require(try locator.locate(chunk))
                let plain = fixture.data.url.appendingPathComponent("\(location.pack).plain")
                if opened[location.pack] == nil {
                    try RepositoryCipher.openFile(
                        fixture.repository.appendingPathComponent(
                            RepositoryLayout.pack(location.pack, encrypted: true)),
                        into: plain, keys: [.identity(try opener.identity())])
                    opened[location.pack] = plain
                }
                hash.update(data: try PackReader(url: plain).chunk(location.entry))
            }
            #expect(hash.finalize().hexString == index.manifest.entries.first { $0.path == file.path }?.sha256)
        }
        #expect(Set(try service.catalog.repositoryPacks().map(\.name)).count == after.count)
        #expect(try service.prune().repository == RepositoryGCReport())

        // Without the operator's key the index cannot be read: the prune fails, nothing goes.
        try FileManager.default.removeItem(at: fixture.data.dataDirectory.backupKey)
        #expect(throws: BackupError.self) { try service.prune() }
        #expect(files() == after)
    }
}
