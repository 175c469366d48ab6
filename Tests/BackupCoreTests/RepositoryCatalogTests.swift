import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("The repository's catalog tables: packs and where each chunk lies")
struct RepositoryCatalogTests {
    static func entry(_ hash: String, _ offset: Int64) -> PackEntry {
        PackEntry(sha256: hash, offset: offset, length: 10, rawLength: 40)
    }

    @Test("a pack's rows go in together, are found by hash in batches, and go out together")
    func packRows() throws {
        let directory = TemporaryDirectory("repository-catalog")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let hashes = (0..<1_200).map { String(format: "%064x", $0) }
        let pack = RepositoryPackRecord(
            name: String(repeating: "a", count: 64), sizeBytes: 12_000, createdAt: Date(timeIntervalSince1970: 1000),
            offsiteStatus: nil)
        try catalog.insertPack(pack, entries: hashes.enumerated().map { Self.entry($1, Int64(8 + 10 * $0)) })
        let other = RepositoryPackRecord(
            name: String(repeating: "b", count: 64), sizeBytes: 30, createdAt: Date(timeIntervalSince1970: 2000),
            offsiteStatus: "pending")
        // A chunk the first pack holds already keeps its row.
        let own = "f" + hashes[0].dropFirst()
        try catalog.insertPack(other, entries: [Self.entry(hashes[5], 8), Self.entry(own, 18)])

        let asked = hashes + (0..<300).map { String(format: "%064x", 10_000 + $0) } + [own]
        #expect(try catalog.knownChunks(among: asked) == Set(hashes + [own]))
        let locator = CatalogChunkLocator(catalog: catalog)
        #expect(try locator.locate(hashes[5]) == ChunkLocation(pack: pack.name, entry: Self.entry(hashes[5], 58)))
        #expect(try locator.locate(String(format: "%064x", 99_999)) == nil)
        #expect(try catalog.repositoryPacks() == [pack, other])

        try catalog.deletePack(named: pack.name)
        // The pack's rows go with it, its chunk another pack also holds too (a prune deletes a
        // pack only when none of its chunks is live; a repack moves the live rows first).
        #expect(try catalog.knownChunks(among: asked) == [own])
        #expect(try locator.locate(hashes[5]) == nil)
        #expect(try catalog.repositoryPacks() == [other])
    }

    @Test("index file names map to backup ids and back; anything else is no index")
    func indexNames() {
        let id = BackupID.make()
        #expect(RepositoryLayout.backupID(ofIndex: RepositoryLayout.indexFilename(id, encrypted: false)) == id)
        #expect(RepositoryLayout.backupID(ofIndex: RepositoryLayout.indexFilename(id, encrypted: true)) == id)
        #expect(RepositoryLayout.backupID(ofIndex: "../\(id).json.zst") == nil)
        #expect(RepositoryLayout.backupID(ofIndex: "\(id).json") == nil)
        let name = String(repeating: "0", count: 62) + "ab"
        #expect(RepositoryLayout.pack(name, encrypted: false) == "packs/00/\(name).pack")
        #expect(RepositoryLayout.isPackName(name) && !RepositoryLayout.isPackName(name.uppercased() + "x"))
    }
}
