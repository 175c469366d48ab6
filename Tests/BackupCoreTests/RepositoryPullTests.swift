import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("incremental backups in the bucket: listed, pulled and restored on a new machine (moto)", .serialized)
struct RepositoryPullTests {
    typealias Fixture = RepositoryWriterTests.Fixture
    static let rows = 60_000

    /// Machine A: two incremental backups with a 1% change between them, uploaded; the
    /// database's fingerprint at each.
    static func machineA(
        _ moto: MotoServer, encrypted: Bool = false, change: String? = nil
    ) async throws -> (
        fixture: Fixture, backups: [BackupInfo], fingerprints: [String]
    ) {
        var fixture = try Fixture(rows: rows)
        try RepositoryOffsiteTests.configure(&fixture, moto, endpoint: moto.endpoint)
        if encrypted {
            _ = try BackupKey(dataDirectory: fixture.data.dataDirectory).generate(now: Date())
            var settings = try fixture.service.catalog.settings()
            settings.encryption.enabled = true
            try fixture.service.saveSettings(settings)
        }
        let first = try await fixture.service.createBackup()
        let firstPrint = try Self.fingerprint(fixture.database.path)
        if let change {
            try TestDB.execute(fixture.database.path, change)
        } else {
            try fixture.changeOnePercent(of: rows)
        }
        let second = try await fixture.service.createBackup()
        for info in [first, second] {
            #expect(info.format == .incremental && info.offsite.status == .uploaded, "\(info.offsite)")
        }
        return (fixture, [first, second], [firstPrint, try Self.fingerprint(fixture.database.path)])
    }

    /// The ledger's rows, every column, as one SHA-256.
    static func fingerprint(_ path: String) throws -> String {
        let rows = try TestDB.strings(
            path,
            "SELECT group_concat(r, ';') FROM (SELECT id || ':' || account || ':' || amount || ':' || memo AS r FROM ledger ORDER BY id)"
        )
        return SHA256.hash(data: Data(rows.joined().utf8)).hexString
    }

    /// The packs of A's repository that hold backup `info`'s chunks, by name.
    static func packs(of info: BackupInfo, in fixture: Fixture) throws -> Set<String> {
        let record = try fixture.service.catalog.record(id: info.id)
        let index = fixture.repository.appendingPathComponent(RepositoryLayout.indexFolder)
            .appendingPathComponent(record.filename)
        return Set(try fixture.service.packsNeeded(by: record, indexFile: index).map(\.name))
    }

    /// Machine B: a fresh data directory with the off-site settings only (through `proxy` when
    /// given), and A's operator key when `key` is given.
    static func machineB(_ moto: MotoServer, through proxy: FaultProxy? = nil, key: URL? = nil) throws -> Fixture {
        var fixture = try Fixture(rows: 10)
        if let key {
            try FileManager.default.copyItem(at: key, to: fixture.data.dataDirectory.backupKey)
        }
        try RepositoryOffsiteTests.configure(&fixture, moto, endpoint: proxy?.endpoint ?? moto.endpoint)
        return fixture
    }

    /// Whole-object GETs of packs the proxy saw (ranged trailer reads left out), by pack name.
    static func packDownloads(_ log: [String]) -> [String] {
        log.filter { $0.hasPrefix("fault log GET ") && $0.hasSuffix("range=-") && $0.contains("/packs/") }
            .compactMap { line in
                line.split(separator: " ")[3].split(separator: "/").last.map { String($0.prefix(64)) }
            }
    }

    /// A proxy before `moto` that logs every GET.
    static func loggingProxy(_ moto: MotoServer) async throws -> FaultProxy {
        try await FaultProxy(
            before: moto, rules: [FaultProxy.Rule(method: "GET", match: ".", action: .log, times: 1_000_000)])
    }

    @Test(
        "a new machine lists both incremental backups, adopts them, pulls only the second's packs and restores it exactly"
    )
    func newMachinePullsAndRestores() async throws {
        let moto = try await MotoServer()
        let (a, made, prints) = try await Self.machineA(moto)
        let proxy = try await Self.loggingProxy(moto)
        let b = try Self.machineB(moto, through: proxy)

        let listed = try await b.service.remoteBackups()
        #expect(listed.map(\.id) == [made[1].id, made[0].id])
        for (remote, info) in zip(listed, [made[1], made[0]]) {
            #expect(remote.format == .incremental && remote.type == info.type && !remote.local)
            #expect(abs(remote.createdAt.timeIntervalSince(info.createdAt)) < 0.001 && remote.filename == info.filename)
            #expect(remote.sizeBytes == info.sizeBytes && remote.logicalBytes == info.logicalBytes)
            #expect(remote.key == "backups/repository/index/\(info.filename)")
        }
        let adopted = try await b.service.syncRemoteCatalog()
        #expect(Set(adopted.map(\.id)) == Set(made.map(\.id)))
        for info in made {
            let record = try b.service.catalog.record(id: info.id)
            #expect(record.store == S3Store.storeName && record.format == .incremental)
            #expect(record.status == .completed && record.offsiteStatus == .uploaded)
            #expect(record.sha256 == info.sha256 && record.logicalBytes == info.logicalBytes)
        }

        // The second backup alone: exactly the packs holding its chunks come down, whole, once.
        _ = proxy.stop()
        let counting = try await Self.loggingProxy(moto)
        var b2 = b
        try RepositoryOffsiteTests.configure(&b2, moto, endpoint: counting.endpoint)
        let pulled = try await b2.service.pull(id: made[1].id)
        #expect(pulled.store == RepositoryLayout.storeName && pulled.format == .incremental)
        let needed = try Self.packs(of: made[1], in: a)
        let downloads = Self.packDownloads(counting.stop())
        try RepositoryOffsiteTests.configure(&b2, moto, endpoint: moto.endpoint)
        #expect(downloads.count == needed.count && Set(downloads) == needed, "\(downloads) vs \(needed)")
        #expect(Set(try b2.service.catalog.repositoryPacks().map(\.name)) == needed)
        #expect(try b2.service.catalog.record(id: made[0].id).store == S3Store.storeName)
        #expect(try await b2.service.remoteBackups().first { $0.id == made[1].id }?.local == true)

        // The record is local now: verify reads every byte, restore gives A's database back.
        #expect(try await b2.service.verify(id: made[1].id, readData: true).isValid)
        try await b2.service.runRestore(try b2.service.prepareRestore(.backup(id: made[1].id)))
        #expect(try Self.fingerprint(b2.database.path) == prints[1])
        #expect(try TestDB.strings(b2.database.path, "PRAGMA integrity_check") == ["ok"])
        #expect(b2.data.temporaryFiles().isEmpty, "\(b2.data.temporaryFiles())")
    }

    @Test("a machine that has the first backup pulls the second: only the packs the first lacks come down")
    func partialRepositoryPullsOnlyNewPacks() async throws {
        let moto = try await MotoServer()
        let (a, made, prints) = try await Self.machineA(moto)
        var b = try Self.machineB(moto)
        try await b.service.syncRemoteCatalog()
        _ = try await b.service.pull(id: made[0].id)
        let firstPacks = Set(try b.service.catalog.repositoryPacks().map(\.name))
        #expect(firstPacks == (try Self.packs(of: made[0], in: a)))

        let counting = try await Self.loggingProxy(moto)
        try RepositoryOffsiteTests.configure(&b, moto, endpoint: counting.endpoint)
        _ = try await b.service.pull(id: made[1].id)
        let expected = try Self.packs(of: made[1], in: a).subtracting(firstPacks)
        let downloads = Self.packDownloads(counting.stop())
        #expect(!expected.isEmpty && Set(downloads) == expected && downloads.count == expected.count)

        // Restoring the first afterwards needs nothing from the bucket.
        try await b.service.runRestore(try b.service.prepareRestore(.backup(id: made[0].id)))
        #expect(try Self.fingerprint(b.database.path) == prints[0])
        try await b.service.runRestore(try b.service.prepareRestore(.backup(id: made[1].id)))
        #expect(try Self.fingerprint(b.database.path) == prints[1])
    }

    @Test(
        "a pull cut short by the bucket leaves the record remote-only, no index, only placed packs with their rows; the rerun fetches only the rest"
    )
    func interruptedPullReruns() async throws {
        let moto = try await MotoServer()
        let (a, made, prints) = try await Self.machineA(moto)
        let needed = try Self.packs(of: made[1], in: a).sorted()
        #expect(needed.count >= 2, "the backup spans several packs: \(needed.count)")
        var b = try Self.machineB(moto)
        try await b.service.syncRemoteCatalog()

        // Every whole-object GET of the last pack fails (retries included); its trailer still reads.
        let failing = try await FaultProxy(
            before: moto,
            rules: [
                FaultProxy.Rule(
                    method: "GET", match: needed.last!, action: .internalError, times: 1000, without: "range")
            ])
        try RepositoryOffsiteTests.configure(&b, moto, endpoint: failing.endpoint)
        await #expect(throws: BackupError.self) { try await b.service.pull(id: made[1].id) }
        #expect(!failing.stop().isEmpty)
        #expect(try b.service.catalog.record(id: made[1].id).store == S3Store.storeName)
        let index = b.repository.appendingPathComponent(RepositoryLayout.index(made[1].id, encrypted: false))
        #expect(!FileManager.default.fileExists(atPath: index.path))
        let placed = Set(try b.service.catalog.repositoryPacks().map(\.name))
        #expect(placed == Set(needed.dropLast()) && b.packFiles() == placed)
        #expect(b.data.temporaryFiles().isEmpty, "\(b.data.temporaryFiles())")

        let counting = try await Self.loggingProxy(moto)
        try RepositoryOffsiteTests.configure(&b, moto, endpoint: counting.endpoint)
        _ = try await b.service.pull(id: made[1].id)
        #expect(Self.packDownloads(counting.stop()) == [needed.last!])
        try await b.service.runRestore(try b.service.prepareRestore(.backup(id: made[1].id)))
        #expect(try Self.fingerprint(b.database.path) == prints[1])
    }

    @Test(
        "encrypted: a new machine with the operator's identity lists, restores the second straight from the bucket, and holds only ciphertext"
    )
    func encryptedNewMachine() async throws {
        let moto = try await MotoServer()
        // Every row changes: the first backup's pack is one the second does not need.
        let (a, made, prints) = try await Self.machineA(
            moto, encrypted: true, change: "UPDATE ledger SET amount = amount + 1")
        #expect(made.allSatisfy { $0.filename.hasSuffix(".json.zst.age") })
        let needed = try Self.packs(of: made[1], in: a)
        let fromA = Set(try a.service.catalog.repositoryPacks().map(\.name))
        #expect(!fromA.subtracting(needed).isEmpty)

        // Each encrypted pack's trailer, read in the bucket with ranged GETs, lists the chunks
        // A's catalog has for it.
        let store = S3Store(
            target: try #require(try a.service.offsiteTarget()), temporary: a.data.dataDirectory.temporary)
        let identity = try RepositoryKey.unlock(at: a.repository, keys: try a.service.bundleKeys().load())
        for pack in try a.service.catalog.repositoryPacks() {
            let remote = RemoteRepository(store: store)
            let entries = try await store.withClient { (client) async throws(BackupError) in
                try await remote.sealedTrailer(
                    of: RepositoryLayout.pack(pack.name, encrypted: true), size: pack.sizeBytes, identity: identity,
                    with: client)
            }
            #expect(Set(entries.map(\.sha256)) == Set(try a.service.catalog.chunkHashes(inPack: pack.name)))
        }

        // Without the key: listed and adopted, but not pulled (and nothing placed).
        let keyless = try Self.machineB(moto)
        #expect(try await keyless.service.remoteBackups().map(\.id) == [made[1].id, made[0].id])
        try await keyless.service.syncRemoteCatalog()
        await #expect(throws: BackupError.self) { try await keyless.service.pull(id: made[1].id) }
        #expect(try keyless.service.catalog.record(id: made[1].id).store == S3Store.storeName)
        #expect(try keyless.service.catalog.repositoryPacks().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: keyless.repository.path), "a refused pull writes nothing")

        // The new machine keeps A's settings: encryption on, with A's key.
        let counting = try await Self.loggingProxy(moto)
        let b = try Self.machineB(moto, through: counting, key: a.data.dataDirectory.backupKey)
        var settings = try b.service.catalog.settings()
        settings.encryption.enabled = true
        try b.service.saveSettings(settings)
        try await b.service.syncRemoteCatalog()
        let record = try b.service.catalog.record(id: made[1].id)
        #expect(record.store == S3Store.storeName && record.sha256 == made[1].sha256)
        // Restore of a remote-only incremental backup pulls it on the way.
        try await b.service.runRestore(try b.service.prepareRestore(.backup(id: made[1].id)))
        let downloads = Self.packDownloads(counting.stop())
        #expect(downloads.count == needed.count && Set(downloads) == needed, "\(downloads) vs \(needed)")
        #expect(try Self.fingerprint(b.database.path) == prints[1])
        #expect(try TestDB.strings(b.database.path, "PRAGMA integrity_check") == ["ok"])
        #expect(try b.service.catalog.record(id: made[1].id).store == RepositoryLayout.storeName)
        // Of A's packs, B holds exactly those the second needs (beside them: its safety backup's).
        let heldFromA = Set(try b.service.catalog.repositoryPacks().map(\.name)).intersection(fromA)
        #expect(heldFromA == needed)
        let packsFolder = b.repository.appendingPathComponent(RepositoryLayout.packsFolder).path
        let packFiles = (FileManager.default.enumerator(atPath: packsFolder)?.allObjects as? [String] ?? [])
            .filter { $0.contains(".pack") }
        #expect(!packFiles.isEmpty && packFiles.allSatisfy { $0.hasSuffix(".pack.age") }, "\(packFiles)")
        #expect(b.data.temporaryFiles().isEmpty, "no plaintext left: \(b.data.temporaryFiles())")
        #expect(try await b.service.verify(id: made[1].id, readData: true).isValid)
    }

    @Test(
        "local retention drops an uploaded incremental backup to remote-only: its index goes, GC frees its packs, pull brings it back"
    )
    func retentionMakesRemoteOnlyAndPullBringsBack() async throws {
        let moto = try await MotoServer()
        // Every row changes: the second backup shares almost nothing with the first.
        let (a, made, prints) = try await Self.machineA(moto, change: "UPDATE ledger SET amount = amount + 1")
        let firstOnly = try Self.packs(of: made[0], in: a).subtracting(try Self.packs(of: made[1], in: a))
        #expect(!firstOnly.isEmpty)
        var settings = try a.service.catalog.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        // Saving the settings applies them at once (the same prune as after a job).
        let change = try a.service.saveSettings(settings)
        #expect(change.deleted.map(\.id) == [made[0].id])
        let dropped = try a.service.catalog.record(id: made[0].id)
        #expect(dropped.store == S3Store.storeName && dropped.status == .completed)
        #expect(
            !FileManager.default.fileExists(
                atPath: a.repository.appendingPathComponent(RepositoryLayout.index(made[0].id, encrypted: false)).path))
        let left = Set(try a.service.catalog.repositoryPacks().map(\.name))
        #expect(left.isDisjoint(with: firstOnly), "the packs only the first used are freed")
        #expect(try await a.service.remoteBackups().first { $0.id == made[0].id }?.local == false)

        _ = try await a.service.pull(id: made[0].id)
        #expect(try a.service.catalog.record(id: made[0].id).store == RepositoryLayout.storeName)
        #expect(Set(try a.service.catalog.repositoryPacks().map(\.name)).isSuperset(of: firstOnly))
        try await a.service.runRestore(try a.service.prepareRestore(.backup(id: made[0].id)))
        #expect(try Self.fingerprint(a.database.path) == prints[0])
    }

    @Test("deleting a remote-only incremental backup deletes its index in the bucket, nothing else")
    func deleteRemoteOnly() async throws {
        let moto = try await MotoServer()
        let (_, made, _) = try await Self.machineA(moto)
        let b = try Self.machineB(moto)
        try await b.service.syncRemoteCatalog()
        let before = try await RepositoryOffsiteTests.remoteFiles(moto)
        try b.service.delete(id: made[0].id)
        #expect(
            try await RepositoryOffsiteTests.remoteFiles(moto)
                == before.subtracting([RepositoryLayout.index(made[0].id, encrypted: false)]))
        #expect(try await b.service.remoteBackups().map(\.id) == [made[1].id])
    }

    @Test(
        "off-site retention on a machine where both are remote-only deletes the old one's index from the bucket and its record"
    )
    func remoteRetentionOfRemoteOnly() async throws {
        let moto = try await MotoServer()
        let (_, made, _) = try await Self.machineA(moto)
        let b = try Self.machineB(moto)
        try await b.service.syncRemoteCatalog()
        var settings = try b.service.catalog.settings()
        settings.offsite.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        try b.service.saveSettings(settings)
        let report = try await b.service.pruneRemote()
        #expect(report.deleted.map(\.id) == [made[0].id])
        let files = try await RepositoryOffsiteTests.remoteFiles(moto)
        #expect(!files.contains(RepositoryLayout.index(made[0].id, encrypted: false)))
        #expect(files.contains(RepositoryLayout.index(made[1].id, encrypted: false)))
        #expect(throws: BackupError.self) { try b.service.catalog.record(id: made[0].id) }
        #expect(try await b.service.remoteBackups().map(\.id) == [made[1].id])
    }

    @Test(
        "off-site GC on a machine that knows none of the encrypted packs reads their trailers in the bucket and deletes the dead one"
    )
    func remoteGCReadsEncryptedTrailers() async throws {
        let moto = try await MotoServer()
        let (a, made, _) = try await Self.machineA(
            moto, encrypted: true, change: "UPDATE ledger SET amount = amount + 1")
        let dead = try Self.packs(of: made[0], in: a).subtracting(try Self.packs(of: made[1], in: a))
        #expect(!dead.isEmpty)
        // A deletes the first in the bucket (its index) without collecting the packs.
        let store = S3Store(
            target: try #require(try a.service.offsiteTarget()), temporary: a.data.dataDirectory.temporary)
        try store.deleteRepositoryIndex(of: try a.service.catalog.record(id: made[0].id))

        // B: the bucket and A's key only, no local repository.
        let b = try Self.machineB(moto, key: a.data.dataDirectory.backupKey)
        let bStore = S3Store(
            target: try #require(try b.service.offsiteTarget()), temporary: b.data.dataDirectory.temporary)
        let report = try await b.service.collectRemoteRepository(in: bStore, dryRun: false)
        #expect(Set(report.packsDeleted) == dead && report.packsUnknown == 0, "\(report)")
        let files = try await RepositoryOffsiteTests.remoteFiles(moto)
        for pack in try a.service.catalog.repositoryPacks() {
            #expect(
                files.contains(RepositoryLayout.pack(pack.name, encrypted: true)) == !dead.contains(pack.name),
                "\(pack.name)")
        }
    }
}
