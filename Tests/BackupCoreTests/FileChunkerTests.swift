import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("The writer's chunking: cuts independent of how the data arrives, superseded copies replaced")
struct FileChunkerTests {
    /// `bytes` fed to a chunker in pieces of `piece` bytes; the chunks' lengths.
    static func cut(_ bytes: [UInt8], _ chunking: RepositoryIndex.Chunking, piece: Int) throws -> [Int] {
        var chunker = FileChunker(chunking)
        var lengths: [Int] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + piece, bytes.count)
            try bytes[start..<end].withUnsafeBytes { raw in
                try chunker.add(raw) { lengths.append($0.count) }
            }
            start = end
        }
        try chunker.finish { lengths.append($0.count) }
        return lengths
    }

    @Test("fixed 64 KiB and FastCDC cuts are the same whatever the piece size, and FastCDC's own over the whole")
    func piecesDoNotMatter() throws {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<(5 * 1024 * 1024 + 12_345)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let fixed = try Self.cut(bytes, .fixed(bytes: FileChunker.databaseChunk), piece: 256 * 1024)
        #expect(fixed == Array(repeating: 65_536, count: 80) + [12_345])
        for piece in [1_000, 65_536, 256 * 1024, 3_000_000] {
            #expect(try Self.cut(bytes, .fixed(bytes: FileChunker.databaseChunk), piece: piece) == fixed)
        }
        for chunking in [FileChunker.dumpChunking, FileChunker.fileChunking] {
            guard case .fastCDC(let minimum, let average, let maximum) = chunking else { continue }
            let whole = bytes.withUnsafeBytes {
                FastCDC(minimumSize: minimum, averageSize: average, maximumSize: maximum).chunks(of: $0).map(\.count)
            }
            #expect(whole.count > 1)
            for piece in [4_096, 256 * 1024, 5_000_000] {
                #expect(try Self.cut(bytes, chunking, piece: piece) == whole)
            }
        }
        #expect(try Self.cut([], .fixed(bytes: FileChunker.databaseChunk), piece: 10).isEmpty)
    }

    @Test("chunking by path: the database in page groups, the dump and large files content-defined, small files whole")
    func chunkingByPath() {
        #expect(FileChunker.chunking(for: "database.sqlite", size: 10 << 30) == .fixed(bytes: 65_536))
        #expect(FileChunker.chunking(for: "database.pgdump", size: 1) == FileChunker.dumpChunking)
        #expect(FileChunker.chunking(for: "files/up/a.jpg", size: 1_048_575) == .fixed(bytes: 1_048_576))
        #expect(FileChunker.chunking(for: "files/up/b.mp4", size: 1_048_576) == FileChunker.fileChunking)
    }

    @Test("a superseding copy of a file replaces the earlier copy's chunk list in its place")
    func supersedingReplaces() throws {
        let directory = TemporaryDirectory("chunker-supersede")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        try FileManager.default.createDirectory(
            at: directory.dataDirectory.temporary, withIntermediateDirectories: true)
        let packer = ChunkPacker(
            root: directory.dataDirectory.repository, temporary: directory.dataDirectory.temporary, catalog: catalog,
            backupID: BackupID.make(), level: 1, now: { Date() })
        let consumer = ChunkingConsumer(packer: packer)
        let sink = BundleEntrySink(bundleTime: Date(timeIntervalSince1970: 1_700_000_000), consumer: consumer)
        let earlier = [UInt8](repeating: 1, count: 100)
        let later = [UInt8](repeating: 2, count: 200)
        try sink.addDirectory("files/up")
        try sink.addBytes(earlier, as: "files/up/a.txt")
        try sink.addBytes([3], as: "files/up/b.txt")
        try sink.addFile(size: Int64(later.count), as: "files/up/a.txt", superseding: true) { buffer, offset in
            later.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)...])) }
            return later.count - Int(offset)
        }
        try packer.finish()
        #expect(sink.entries.map(\.path) == ["files/up", "files/up/a.txt", "files/up/b.txt"])
        #expect(sink.entries[1].sha256 == SHA256.hash(data: later).hexString)
        #expect(consumer.files["files/up/a.txt"]?.chunks == [SHA256.hash(data: later).hexString])
        #expect(consumer.files["files/up/b.txt"]?.chunks == [SHA256.hash(data: [3]).hexString])
        // Every chunk, the superseded one too, is in a placed pack with its row.
        #expect(packer.chunksStored == 3 && packer.packs.count == 1)
    }
}
