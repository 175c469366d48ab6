import Crypto
import Foundation
import TestSupport

@testable import BackupCore

/// A repository built by hand in a fresh data directory: packs written with ``PackWriter``,
/// placed under `packs/aa/` and recorded (or not: a crash before the rows), indexes written as
/// the zstd tool compresses their JSON, and completed records pointing at them.
struct HandBuiltRepository {
    let directory: TemporaryDirectory
    let service: BackupService
    var catalog: Catalog { service.catalog }
    var root: URL { directory.dataDirectory.repository }

    init(_ label: String) throws {
        directory = TemporaryDirectory(label)
        service = try BackupService(dataDirectory: directory.dataDirectory)
        for folder in [RepositoryLayout.packsFolder, RepositoryLayout.indexFolder] {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
    }

    /// `count` bytes that do not compress, different for each `seed`.
    static func chunk(_ seed: Int, bytes count: Int = 16 << 10) -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(seed))
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    static func hash(_ chunk: [UInt8]) -> String { SHA256.hash(data: chunk).hexString }

    /// Writes a pack of `chunks`, places it and (unless `recorded` is false) inserts its rows.
    @discardableResult
    func addPack(_ chunks: [[UInt8]], recorded: Bool = true) throws -> String {
        let partial = directory.dataDirectory.temporary.appendingPathComponent("pack-\(UUID().uuidString).partial")
        let writer = try PackWriter(partial: partial, level: 3)
        for chunk in chunks {
            try chunk.withUnsafeBytes { try writer.add($0, sha256: Self.hash(chunk)) }
        }
        let name = try writer.finish()
        let url = packURL(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: partial, to: url)
        if recorded {
            try catalog.insertPack(
                RepositoryPackRecord(
                    name: name, sizeBytes: FileOps.size(of: url) ?? 0, createdAt: Date(), offsiteStatus: nil),
                entries: writer.entries)
        }
        return name
    }

    func packURL(_ name: String) -> URL { root.appendingPathComponent(RepositoryLayout.pack(name, encrypted: false)) }

    func indexURL(_ id: String) -> URL {
        root.appendingPathComponent(RepositoryLayout.index(id, encrypted: false))
    }

    /// Writes the index of a backup whose one file (`database.sqlite`) is `chunks` in order, and
    /// its completed record; returns its id.
    @discardableResult
    func addBackup(_ chunks: [[UInt8]], createdAt: Date = Date()) throws -> String {
        let id = BackupID.make()
        let data = chunks.flatMap { $0 }
        let manifest = Manifest(
            id: id, type: .manual, createdAt: createdAt,
            entries: [
                Manifest.Entry(
                    path: "database.sqlite", size: Int64(data.count), sha256: Self.hash(data), mode: 0o600, mtime: 0)
            ])
        let index = RepositoryIndex(
            manifest: manifest,
            files: [
                RepositoryIndex.File(
                    path: "database.sqlite", chunking: .fixed(bytes: 16 << 10), chunks: chunks.map(Self.hash))
            ])
        let json = indexURL(id).deletingPathExtension()
        try JSONEncoder.backupManager().encode(index).write(to: json)
        let zstd = try ChildProcess(executablePath: "/usr/bin/zstd").run([
            "-q", "--rm", json.path, "-o", indexURL(id).path,
        ])
        precondition(zstd.status == 0, zstd.stderr)
        var record = BackupRecord(id: id, type: .manual, createdAt: createdAt, note: nil)
        record.store = RepositoryLayout.storeName
        record.filename = RepositoryLayout.indexFilename(id, encrypted: false)
        record.status = .completed
        record.completedAt = createdAt
        record.sizeBytes = FileOps.size(of: indexURL(id)) ?? 0
        try catalog.insert(record)
        return id
    }

    /// Deletes a backup's index (as deleting its record does) and its record.
    func dropBackup(_ id: String) throws {
        try FileManager.default.removeItem(at: indexURL(id))
        try catalog.deleteRecord(id: id)
    }

    /// The pack files under `packs/`, by name.
    func packFiles() throws -> Set<String> {
        Set(try gc().packFiles().keys)
    }

    /// The packs the catalog lists, by name.
    func listedPacks() throws -> Set<String> { Set(try catalog.repositoryPacks().map(\.name)) }

    func gc(interruption: @escaping (RepositoryGC.Step) throws(BackupError) -> Void = { _ in }) -> RepositoryGC {
        var gc = RepositoryGC(
            catalog: catalog, root: root, temporary: directory.dataDirectory.temporary, level: 3, now: Date())
        gc.interruption = interruption
        return gc
    }

    /// Every chunk of every index in `index/` has a row, the row's pack file is there, and the
    /// chunk reads back from it and matches its hash: what must hold after any crash.
    func everyIndexReadable() throws -> Bool {
        for (_, url) in try LiveChunks.indexFiles(in: root) {
            let index = try RepositoryGC.readPlainIndex(at: url)
            for hash in index.chunkSet {
                guard let location = try CatalogChunkLocator(catalog: catalog).locate(hash) else { return false }
                let pack = packURL(location.pack)
                guard FileManager.default.fileExists(atPath: pack.path) else { return false }
                guard Self.hash(try PackReader(url: pack).chunk(location.entry)) == hash else { return false }
            }
        }
        return true
    }

    /// The files and the rows agree (every pack file listed, every listed pack's file there),
    /// and no listed pack serves only dead chunks: what holds after a whole collection.
    func isClean() throws -> Bool {
        let live = try LiveChunks(repository: root) { (url) throws(BackupError) in
            try RepositoryGC.readPlainIndex(at: url)
        }
        for name in try listedPacks() {
            if try live.filter(try catalog.chunkRows(ofPack: name).map(\.sha256)).isEmpty { return false }
        }
        return try packFiles() == listedPacks()
    }
}
