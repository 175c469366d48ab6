import Crypto
import Foundation
import TestSupport

@testable import BackupCore

/// Builds incremental backups by hand, the way the repository's writer does, from real bundle
/// backups: the bundle is opened with `tar`, each regular file cut into fixed chunks, the chunks
/// no pack holds yet written into packs (``PackWriter``, sealed at `packBytes`, placed under
/// `packs/aa/`, their rows inserted with ``Catalog/insertPack(_:entries:)``), the index written
/// (zstd JSON under `index/`), and the record pointed at it (store `repository`); the bundle goes.
enum RepositoryForge {
    struct Forged {
        var index: RepositoryIndex
        /// The bundle's contents as `tar -xpf` gave them (the oracle for an export).
        var extracted: URL
        /// The packs this conversion added, by name.
        var packs: [String]
    }

    static func convert(
        _ id: String, service: BackupService, in scratch: TemporaryDirectory, chunkBytes: Int = 64 * 1024,
        packBytes: Int64 = 256 * 1024
    ) throws -> Forged {
        let data = service.dataDirectory
        var record = try service.catalog.record(id: id)
        let bundle = data.backups.appendingPathComponent(record.filename)
        let extracted = scratch.url.appendingPathComponent("original-\(id)")
        try extract(bundle, into: extracted)
        let manifest = try Manifest.decode(
            [UInt8](try Data(contentsOf: extracted.appendingPathComponent(Manifest.entryName))))

        let repository = data.repository
        try FileManager.default.createDirectory(
            at: repository.appendingPathComponent(RepositoryLayout.indexFolder), withIntermediateDirectories: true)
        var added: Set<String> = []
        var packs: [String] = []
        var addedBytes: Int64 = 0
        var writer: PackWriter?
        var partial = data.temporary.appendingPathComponent("forge-\(id)-0.partial")
        func seal() throws {
            guard let open = writer else { return }
            let name = try open.finish()
            let placed = repository.appendingPathComponent(RepositoryLayout.pack(name, encrypted: false))
            try FileManager.default.createDirectory(
                at: placed.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: partial, to: placed)
            let size = Int64(FileOps.size(of: placed) ?? 0)
            try service.catalog.insertPack(
                RepositoryPackRecord(name: name, sizeBytes: size, createdAt: Date(), offsiteStatus: nil),
                entries: open.entries)
            packs.append(name)
            addedBytes += size
            writer = nil
            partial = data.temporary.appendingPathComponent("forge-\(id)-\(packs.count).partial")
        }

        var files: [RepositoryIndex.File] = []
        for entry in manifest.entries where entry.type == .file {
            let bytes = [UInt8](try Data(contentsOf: extracted.appendingPathComponent(entry.path)))
            var hashes: [String] = []
            for start in stride(from: 0, to: bytes.count, by: chunkBytes) {
                let chunk = Array(bytes[start..<min(start + chunkBytes, bytes.count)])
                let hash = SHA256.hash(data: chunk).hexString
                hashes.append(hash)
                guard !added.contains(hash), try service.catalog.knownChunks(among: [hash]).isEmpty else { continue }
                if writer == nil { writer = try PackWriter(partial: partial, level: 3) }
                try chunk.withUnsafeBytes { try writer!.add($0, sha256: hash) }
                added.insert(hash)
                if writer!.size >= packBytes { try seal() }
            }
            files.append(RepositoryIndex.File(path: entry.path, chunking: .fixed(bytes: chunkBytes), chunks: hashes))
        }
        try seal()

        let index = RepositoryIndex(manifest: manifest, files: files)
        let indexURL = repository.appendingPathComponent(RepositoryLayout.index(id, encrypted: false))
        try write(index, to: indexURL)
        let indexBytes = try Data(contentsOf: indexURL)
        record.store = RepositoryLayout.storeName
        record.format = .incremental
        record.logicalBytes = index.logicalBytes
        record.filename = indexURL.lastPathComponent
        record.sha256 = SHA256.hash(data: indexBytes).hexString
        record.sizeBytes = addedBytes + Int64(indexBytes.count)
        try service.catalog.update(record)
        try FileManager.default.removeItem(at: bundle)
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: bundle.path + ".sha256"))
        return Forged(index: index, extracted: extracted, packs: packs)
    }

    /// Writes `index` as zstd-compressed JSON at `url`, replacing what is there.
    static func write(_ index: RepositoryIndex, to url: URL) throws {
        let json = try JSONEncoder.backupManager().encode(index)
        var compressed: [UInt8] = []
        let zstd = try CodecName.zstd.codec.writer(level: 3) { (bytes) throws(BackupError) in
            compressed += bytes
        }
        try zstd.write([UInt8](json))
        try zstd.finish()
        try Data(compressed).write(to: url)
    }

    /// `tar -xpf bundle -C directory` (the codec detected by tar).
    static func extract(_ bundle: URL, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try ChildProcess(executablePath: "/usr/bin/tar").run([
            "-xpf", bundle.path, "-C", directory.path,
        ])
        guard result.status == 0 else {
            throw BackupError.io(path: bundle.path, reason: "tar failed: \(result.stderr)")
        }
    }
}
