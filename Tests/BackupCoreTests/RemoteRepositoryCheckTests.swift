import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("backup remote check: the bucket's repository checked from its own objects (moto)", .serialized)
struct RemoteRepositoryCheckTests {
    @Test("--read-data-subset takes N/T or P%, nothing else")
    func parsing() {
        #expect(ReadDataSubset(parsing: "1/5") == .part(1, of: 5))
        #expect(ReadDataSubset(parsing: "5/5") == .part(5, of: 5))
        #expect(ReadDataSubset(parsing: "10%") == .percent(10))
        #expect(ReadDataSubset(parsing: "100%") == .percent(100))
        for bad in ["0/5", "6/5", "1/0", "0%", "101%", "abc", "1/", "/5", ""] {
            #expect(ReadDataSubset(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test(
        "clean, then a pack changed in place (found only by reading it whole) and a pack deleted (found by the structure check)"
    )
    func findsDamage() async throws {
        let moto = try await MotoServer()
        var fixture = try RepositoryWriterTests.Fixture(rows: 60_000)
        try RepositoryOffsiteTests.configure(&fixture, moto, endpoint: moto.endpoint)
        let first = try await fixture.service.createBackup()
        try fixture.changeOnePercent(of: 60_000)
        let second = try await fixture.service.createBackup()
        #expect(first.offsite.status == .uploaded && second.offsite.status == .uploaded)
        let packs = try await RepositoryOffsiteTests.remoteFiles(moto).filter { $0.hasPrefix("packs/") }.sorted()
        #expect(packs.count >= 2)

        let clean = try await fixture.service.checkRemoteRepository(readDataSubset: .percent(100))
        #expect(clean.problems == [], "\(clean.problems)")
        #expect(clean.indexes == 2 && clean.packs == packs.count && clean.packsRead == packs.count)
        #expect(clean.chunkReferences > 0 && clean.bytesRead > 0)
        // The parts of a split read every pack exactly once between them.
        var read = 0
        for part in 1...3 {
            read += try await fixture.service.checkRemoteRepository(readDataSubset: .part(part, of: 3)).packsRead
        }
        #expect(read == packs.count)

        // One byte of a pack's data changed in the bucket: its trailer still reads, so only the
        // read-data check sees it, and names the pack.
        let client = try S3Client(location: moto.location, credentials: moto.credentials)
        let damagedKey = "backups/repository/\(packs[0])"
        var bytes = try await client.get(key: damagedKey)
        bytes[100] ^= 0xFF
        try await client.put(key: damagedKey, bytes: bytes, contentType: "application/octet-stream", metadata: [:])
        let damagedName = String(packs[0].split(separator: "/").last!.prefix(64))
        #expect(try await fixture.service.checkRemoteRepository().problems == [])
        let readWhole = try await fixture.service.checkRemoteRepository(readDataSubset: .percent(100))
        #expect(readWhole.problems.count == 1, "\(readWhole.problems)")
        #expect(
            readWhole.problems.first?.contains("pack \(damagedName): its SHA-256 is") == true, "\(readWhole.problems)")

        // Another pack gone: the structure check names the backups that need it.
        try await client.delete(key: "backups/repository/\(packs[1])")
        await client.shutdown()
        let structure = try await fixture.service.checkRemoteRepository()
        #expect(!structure.problems.isEmpty, "\(structure.problems)")
        #expect(structure.problems.allSatisfy { $0.contains("chunks are in no pack in the bucket") })
        #expect(fixture.data.temporaryFiles().isEmpty)
    }
}
