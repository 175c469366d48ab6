import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Off-site copy of the incremental repository against a real S3 server (moto)", .serialized)
struct RepositoryOffsiteTests {
    /// Points `fixture`'s off-site settings at `endpoint` (moto, or a proxy before it).
    static func configure(_ fixture: inout RepositoryWriterTests.Fixture, _ moto: MotoServer, endpoint: URL) throws {
        fixture.service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
        ])
        var settings = try fixture.service.catalog.settings()
        settings.offsite.enabled = true
        settings.offsite.endpoint = endpoint.absoluteString
        settings.offsite.region = moto.region
        settings.offsite.bucket = moto.bucket
        settings.offsite.pathStyle = true
        settings.offsite.accessKeyID = moto.credentials.accessKeyID
        settings.offsite.secretAccessKeySet = true
        try fixture.service.catalog.saveSettings(settings, now: Date())
    }

    /// The repository's objects in the bucket (relative paths), read by boto3.
    static func remoteFiles(_ moto: MotoServer) async throws -> Set<String> {
        Set(
            try await moto.keys(prefix: "backups/repository/").map { String($0.dropFirst("backups/repository/".count)) }
        )
    }

    /// Every remote file's SHA-256 (boto3) is its local twin's.
    static func expectIdentical(
        _ files: Set<String>, _ fixture: RepositoryWriterTests.Fixture, _ moto: MotoServer
    )
        async throws
    {
        for relative in files.sorted() {
            let local = try Data(contentsOf: fixture.repository.appendingPathComponent(relative))
            let remote = try await moto.read(key: "backups/repository/\(relative)")
            #expect(remote.sha256 == SHA256.hash(data: local).hexString, "\(relative)")
            #expect(remote.size == Int64(local.count), "\(relative)")
        }
    }

    @Test("two incremental backups: the second uploads only its new packs and its index, byte-identical")
    func uploadsOnlyNewPacks() async throws {
        let moto = try await MotoServer()
        var fixture = try RepositoryWriterTests.Fixture(rows: 60_000)
        try Self.configure(&fixture, moto, endpoint: moto.endpoint)

        let first = try await fixture.service.createBackup()
        #expect(first.format == .incremental && first.offsite.status == .uploaded)
        #expect(first.offsite.key == "backups/repository/index/\(first.filename)")
        let firstPacks = try fixture.service.catalog.repositoryPacks()
        #expect(!firstPacks.isEmpty && firstPacks.allSatisfy { $0.offsiteStatus == "uploaded" })
        let afterFirst = try await Self.remoteFiles(moto)
        #expect(
            afterFirst
                == Set(
                    [RepositoryLayout.config, RepositoryLayout.index(first.id, encrypted: false)]
                        + firstPacks.map { RepositoryLayout.pack($0.name, encrypted: false) }))
        try await Self.expectIdentical(afterFirst, fixture, moto)
        #expect(try await moto.read(key: first.offsite.key!).metadata["backup-id"] == first.id)

        // Any PUT of a pack the first backup uploaded fails at the proxy (and is logged there):
        // the second upload must send none.
        try fixture.changeOnePercent(of: 60_000)
        let proxy = try await FaultProxy(
            before: moto,
            rules: [
                FaultProxy.Rule(
                    method: "PUT", match: firstPacks.map(\.name).joined(separator: "|"), action: .internalError,
                    times: 1000)
            ])
        try Self.configure(&fixture, moto, endpoint: proxy.endpoint)
        let second = try await fixture.service.createBackup()
        #expect(second.offsite.status == .uploaded, "\(second.offsite.error ?? "")")
        #expect(proxy.stop() == [])

        let allPacks = try fixture.service.catalog.repositoryPacks()
        let newPacks = allPacks.filter { pack in !firstPacks.contains { $0.name == pack.name } }
        #expect(!newPacks.isEmpty && allPacks.allSatisfy { $0.offsiteStatus == "uploaded" })
        let afterSecond = try await Self.remoteFiles(moto)
        #expect(
            afterSecond.subtracting(afterFirst)
                == Set(
                    [RepositoryLayout.index(second.id, encrypted: false)]
                        + newPacks.map { RepositoryLayout.pack($0.name, encrypted: false) }))
        try await Self.expectIdentical(afterSecond, fixture, moto)

        // Uploading it again sends its index alone.
        try Self.configure(&fixture, moto, endpoint: moto.endpoint)
        let record = try fixture.service.catalog.record(id: second.id)
        let store = S3Store(
            target: try #require(try fixture.service.offsiteTarget()),
            temporary: fixture.data.dataDirectory.temporary)
        let again = try await fixture.service.replicateRepositoryBackup(record, to: store) { _, _ in }
        #expect(again.packsUploaded == [] && again.bytesSent == fixture.indexSize(of: second))
    }

    @Test(
        "deleting a backup deletes its remote index; remote prune's GC deletes the packs only it used, keeps the rest, and reruns clean"
    )
    func remoteDeletionAndGC() async throws {
        let moto = try await MotoServer()
        var fixture = try RepositoryWriterTests.Fixture(rows: 60_000)
        try Self.configure(&fixture, moto, endpoint: moto.endpoint)
        let first = try await fixture.service.createBackup()
        let firstPacks = Set(try fixture.service.catalog.repositoryPacks().map(\.name))
        try fixture.changeOnePercent(of: 60_000)
        let second = try await fixture.service.createBackup()
        #expect(first.offsite.status == .uploaded && second.offsite.status == .uploaded)
        let secondOnly = Set(try fixture.service.catalog.repositoryPacks().map(\.name)).subtracting(firstPacks)
        #expect(!secondOnly.isEmpty)

        // A dry run that reads the second's index as deleted names exactly the packs the real
        // collection then frees, and changes nothing.
        let before = try await Self.remoteFiles(moto)
        let ownStore = S3Store(
            target: try #require(try fixture.service.offsiteTarget()),
            temporary: fixture.data.dataDirectory.temporary)
        let foreseen = try await fixture.service.collectRemoteRepository(
            in: ownStore, dryRun: true, excluding: [second.id])
        #expect(Set(foreseen.packsDeleted) == secondOnly)
        #expect(try await Self.remoteFiles(moto) == before)

        // The newest backup goes: its index leaves the bucket at once, its own packs with the prune.
        try fixture.service.delete(id: second.id)
        #expect(!(try await Self.remoteFiles(moto)).contains(RepositoryLayout.index(second.id, encrypted: false)))
        let pruned = try await fixture.service.pruneRemote()
        #expect(Set(pruned.remoteRepository?.packsDeleted ?? []) == secondOnly)
        #expect(pruned.remoteRepository?.bytesFreed == foreseen.bytesFreed)
        let kept = Set(
            [RepositoryLayout.config, RepositoryLayout.index(first.id, encrypted: false)]
                + firstPacks.map { RepositoryLayout.pack($0, encrypted: false) })
        #expect(try await Self.remoteFiles(moto) == kept)
        for pack in try fixture.service.catalog.repositoryPacks() {
            #expect(pack.offsiteStatus == (firstPacks.contains(pack.name) ? "uploaded" : nil), "\(pack.name)")
        }
        try await Self.expectIdentical(kept, fixture, moto)

        // Another data directory on the same bucket knows no pack: it reads the trailers, keeps
        // the live packs and deletes a garbage pack (one no index names), a dry run first.
        let garbage = try Self.garbagePack(in: fixture.data.dataDirectory.temporary)
        let client = try S3Client(location: moto.location, credentials: moto.credentials)
        try await client.put(
            key: "backups/repository/\(RepositoryLayout.pack(garbage.name, encrypted: false))",
            bytes: garbage.bytes, contentType: "application/octet-stream", metadata: [:])
        await client.shutdown()
        var other = try RepositoryWriterTests.Fixture(rows: 10)
        try Self.configure(&other, moto, endpoint: moto.endpoint)
        let store = S3Store(
            target: try #require(try other.service.offsiteTarget()), temporary: other.data.dataDirectory.temporary)
        let dry = try await other.service.collectRemoteRepository(in: store, dryRun: true)
        #expect(dry.packsDeleted == [garbage.name] && dry.bytesFreed == Int64(garbage.bytes.count))
        #expect(try await Self.remoteFiles(moto) == kept.union([RepositoryLayout.pack(garbage.name, encrypted: false)]))
        let collected = try await other.service.collectRemoteRepository(in: store, dryRun: false)
        #expect(collected.packsDeleted == [garbage.name])
        #expect(try await Self.remoteFiles(moto) == kept)
        #expect(try await other.service.collectRemoteRepository(in: store, dryRun: false).packsDeleted == [])
    }

    /// A real pack of one random chunk that no index names: its name and bytes.
    static func garbagePack(in folder: URL) throws -> (name: String, bytes: [UInt8]) {
        let partial = folder.appendingPathComponent("garbage-\(UUID().uuidString).partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        let writer = try PackWriter(partial: partial, level: 1)
        let chunk = (0..<70_000).map { _ in UInt8.random(in: 0...255) }
        try chunk.withUnsafeBytes { try writer.add($0, sha256: SHA256.hash(data: chunk).hexString) }
        let name = try writer.finish()
        return (name, [UInt8](try Data(contentsOf: partial)))
    }
}
