import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Repository garbage collection: dead packs, repack, orphan packs and rows, crashes")
struct RepositoryGCTests {
    static func chunk(_ seed: Int) -> [UInt8] { HandBuiltRepository.chunk(seed) }
    static func hash(_ chunk: [UInt8]) -> String { HandBuiltRepository.hash(chunk) }

    @Test("a pack only a deleted backup used goes, rows first; packs a remaining backup uses stay whole")
    func deadPacks() throws {
        let repository = try HandBuiltRepository("gc-dead")
        let (a, b, c) = (
            (0..<4).map { Self.chunk($0) }, (4..<8).map { Self.chunk($0) }, (8..<12).map { Self.chunk($0) }
        )
        let packA = try repository.addPack(a)
        let packB = try repository.addPack(b)
        let packC = try repository.addPack(c)
        let kept = try repository.addBackup(a + b)
        let gone = try repository.addBackup(b + c)
        try repository.dropBackup(gone)
        let sizeC = try #require(FileOps.size(of: repository.packURL(packC)))

        let report = try repository.gc().run(dryRun: false)

        #expect(report.packsDeleted == 1 && report.packsRepacked == 0)
        #expect(report.bytesFreed == sizeC)
        #expect(try repository.packFiles() == [packA, packB])
        #expect(try repository.listedPacks() == [packA, packB])
        #expect(try repository.catalog.knownChunks(among: c.map(Self.hash)).isEmpty)
        #expect(try repository.everyIndexReadable())
        #expect(try repository.isClean())
        #expect(try repository.catalog.record(id: kept).status == .completed)
        // A second run finds nothing to do.
        #expect(try repository.gc().run(dryRun: false) == RepositoryGCReport())
    }

    @Test("packs under half live are repacked together into one new pack; one over half live stays")
    func repack() throws {
        let repository = try HandBuiltRepository("gc-repack")
        let first = (0..<10).map { Self.chunk($0) }
        let second = (10..<20).map { Self.chunk($0) }
        let third = (20..<30).map { Self.chunk($0) }
        let packs = [try repository.addPack(first), try repository.addPack(second), try repository.addPack(third)]
        let sizes = try packs.map { try #require(FileOps.size(of: repository.packURL($0))) }
        // 2 of 10 live in the first, 3 of 10 in the second, 6 of 10 in the third.
        let live = Array(first[0..<2]) + Array(second[5..<8]) + Array(third[0..<6])
        try repository.addBackup(live)

        let report = try repository.gc().run(dryRun: false)

        #expect(report.packsRepacked == 2 && report.packsDeleted == 0)
        let files = try repository.packFiles()
        #expect(files.count == 2 && files.contains(packs[2]) && !files.contains(packs[0]) && !files.contains(packs[1]))
        let new = try #require(files.subtracting([packs[2]]).first)
        let newSize = try #require(FileOps.size(of: repository.packURL(new)))
        #expect(report.bytesFreed == sizes[0] + sizes[1] - newSize)
        // The new pack holds exactly the five live chunks of the two, each readable.
        let entries = try PackReader(url: repository.packURL(new)).entries()
        let moved: [[UInt8]] = Array(first[0..<2]) + Array(second[5..<8])
        let movedHashes = Set(moved.map { Self.hash($0) })
        #expect(Set(entries.map(\.sha256)) == movedHashes)
        #expect(try repository.catalog.chunkRows(ofPack: new).count == 5)
        #expect(try repository.catalog.chunkRows(ofPack: packs[2]).count == 10, "the third keeps its dead rows")
        #expect(try repository.everyIndexReadable())
        #expect(try repository.isClean())
        #expect(repository.directory.temporaryFiles().isEmpty)
        #expect(try repository.gc().run(dryRun: false) == RepositoryGCReport())
    }

    @Test("a pack file without rows is recorded when an index needs a chunk no row locates, else deleted")
    func orphanPacks() throws {
        let repository = try HandBuiltRepository("gc-orphans")
        let served = (0..<3).map { Self.chunk($0) }
        let servedPack = try repository.addPack(served)
        // Crash between placing and rows: an index needs these (the writer's crash before its
        // rows leaves no index, but a repack's new pack is placed before its rows move).
        let needed = (3..<6).map { Self.chunk($0) }
        let neededPack = try repository.addPack(needed, recorded: false)
        // Chunks another pack serves already: garbage.
        let copy = try repository.addPack([served[0], served[1]], recorded: false)
        // Nobody needs these.
        let unused = try repository.addPack([Self.chunk(9)], recorded: false)
        // Not a pack at all, under a pack's name.
        let junk = String(repeating: "ab", count: 32)
        try FileManager.default.createDirectory(
            at: repository.packURL(junk).deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("not a pack".utf8).write(to: repository.packURL(junk))
        try repository.addBackup(served + needed)
        #expect(try !repository.everyIndexReadable())

        let report = try repository.gc().run(dryRun: false)

        #expect(report.packsRecovered == 1 && report.packsDeleted == 3)
        #expect(try repository.packFiles() == [servedPack, neededPack])
        #expect(try repository.listedPacks() == [servedPack, neededPack])
        #expect(!FileManager.default.fileExists(atPath: repository.packURL(copy).path))
        #expect(!FileManager.default.fileExists(atPath: repository.packURL(unused).path))
        #expect(try repository.everyIndexReadable())
        #expect(try repository.isClean())
    }

    @Test("rows of a pack whose file is gone are dropped and the backups needing it are marked missing, naming it")
    func lostPack() throws {
        let repository = try HandBuiltRepository("gc-lost")
        let shared = (0..<2).map { Self.chunk($0) }
        let own = (2..<4).map { Self.chunk($0) }
        let sharedPack = try repository.addPack(shared)
        let lostPack = try repository.addPack(own)
        let hit = try repository.addBackup(shared + own)
        let spared = try repository.addBackup(shared)
        try FileManager.default.removeItem(at: repository.packURL(lostPack))

        let report = try repository.gc().run(dryRun: false)

        #expect(report.packsLost == [lostPack] && report.backupsMissing == [hit])
        let missing = try repository.catalog.record(id: hit)
        #expect(missing.status == .missing)
        #expect(missing.error?.contains(lostPack) == true)
        #expect(try repository.catalog.record(id: spared).status == .completed)
        #expect(try repository.listedPacks() == [sharedPack])
        #expect(try repository.catalog.knownChunks(among: own.map(Self.hash)).isEmpty)
        #expect(try repository.gc().run(dryRun: false) == RepositoryGCReport())
        // The next job's reconciliation does not take the backup for whole again: its index is
        // there, but not every chunk it needs.
        try repository.service.beginJob().release()
        #expect(try repository.catalog.record(id: hit).status == .missing)
    }

    @Test("a lost pack's chunk that a pack file without rows holds is recovered from it, no backup missing")
    func lostPackRecoveredFromOrphan() throws {
        let repository = try HandBuiltRepository("gc-lost-orphan")
        let chunks = (0..<3).map { Self.chunk($0) }
        let lost = try repository.addPack(chunks)
        let orphan = try repository.addPack(chunks + [Self.chunk(7)], recorded: false)
        let id = try repository.addBackup(chunks)
        try FileManager.default.removeItem(at: repository.packURL(lost))

        let report = try repository.gc().run(dryRun: false)

        #expect(report.packsLost == [lost] && report.backupsMissing.isEmpty && report.packsRecovered == 1)
        #expect(try repository.catalog.record(id: id).status == .completed)
        #expect(try repository.listedPacks() == [orphan])
        #expect(try repository.everyIndexReadable())
    }

    @Test("an index that cannot be read stops the collection before anything is deleted")
    func unreadableIndex() throws {
        let repository = try HandBuiltRepository("gc-bad-index")
        let pack = try repository.addPack([Self.chunk(1)])
        let other = try repository.addPack([Self.chunk(2)])
        let id = try repository.addBackup([Self.chunk(1)])
        try Data("damaged".utf8).write(to: repository.indexURL(id))

        let error = #expect(throws: BackupError.self) { try repository.gc().run(dryRun: false) }
        guard case .verificationFailed(let reason) = error else {
            Issue.record("not a verification failure: \(String(describing: error))")
            return
        }
        #expect(reason.contains("\(id).json.zst"))
        #expect(try repository.packFiles() == [pack, other])
        #expect(try repository.listedPacks() == [pack, other])
    }

    @Test("a dry run reports what the real run then frees, and changes nothing")
    func dryRun() throws {
        let repository = try HandBuiltRepository("gc-dry")
        let first = (0..<10).map { Self.chunk($0) }
        try repository.addPack(first)
        try repository.addPack((10..<14).map { Self.chunk($0) })
        try repository.addPack([Self.chunk(20)], recorded: false)
        try repository.addBackup(Array(first[0..<3]))
        let files = try repository.packFiles()
        let rows = try repository.catalog.knownChunks(among: (0..<21).map { Self.hash(Self.chunk($0)) })

        let dry = try repository.gc().run(dryRun: true)

        #expect(try repository.packFiles() == files)
        #expect(try repository.catalog.knownChunks(among: (0..<21).map { Self.hash(Self.chunk($0)) }) == rows)
        let real = try repository.gc().run(dryRun: false)
        #expect(dry.packsDeleted == 2 && real.packsDeleted == 2)
        #expect(dry.packsRepacked == 1 && real.packsRepacked == 1)
        // The dry run counts the dead bytes; the real one frees them less the new pack's framing.
        #expect(dry.bytesFreed >= real.bytesFreed && dry.bytesFreed - real.bytesFreed < 4096)
    }

    @Test(
        "a collection stopped at any step leaves every index readable, and a rerun ends clean",
        arguments: [RepositoryGC.Step.deadRowsDeleted, .repackPlaced, .repackMoved, .orphanRecorded])
    func interrupted(at step: RepositoryGC.Step) throws {
        let repository = try HandBuiltRepository("gc-crash")
        let first = (0..<10).map { Self.chunk($0) }
        let dead = (10..<14).map { Self.chunk($0) }
        try repository.addPack(first)
        try repository.addPack(dead)
        let orphan = (20..<22).map { Self.chunk($0) }
        try repository.addPack(orphan, recorded: false)
        try repository.addBackup(Array(first[0..<3]) + orphan)

        #expect(throws: BackupError.cancelled) {
            try repository.gc { (reached) throws(BackupError) in
                if reached == step { throw .cancelled }
            }.run(dryRun: false)
        }
        #expect(try repository.everyIndexReadable())

        try repository.gc().run(dryRun: false)
        #expect(try repository.everyIndexReadable())
        #expect(try repository.isClean())
        // Just the live chunks are left: the three of the first pack in a new pack, and the orphan.
        #expect(try repository.packFiles().count == 2)
        #expect(try repository.gc().run(dryRun: false) == RepositoryGCReport())
    }
}
