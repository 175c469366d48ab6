import Foundation
import Logging

/// A mostly dead pack: its file, its size, and the rows of its live chunks.
struct RepackCandidate {
    var name: String
    var url: URL
    var size: Int64
    var live: [PackEntry]

    var liveBytes: Int64 { live.reduce(Int64(0)) { $0 + $1.length } }
}

extension RepositoryGC {
    /// Writes the live chunks of `candidates` into new packs, each sealed once it reaches
    /// ``targetPackBytes`` after a whole old pack (so each old pack's rows move in exactly one
    /// transaction), then deletes the old files. A candidate one of whose live chunks does not
    /// read back right is left as it is (logged): a repack never copies damage, and `verify`
    /// names it.
    func repack(
        _ candidates: [RepackCandidate], dryRun: Bool, into report: inout RepositoryGCReport
    )
        throws(BackupError)
    {
        guard !dryRun else {
            for candidate in candidates {
                report.packsRepacked += 1
                report.bytesFreed += candidate.size - candidate.liveBytes
            }
            return
        }
        var open: (writer: PackWriter, partial: URL, olds: [RepackCandidate])?
        defer { if let open { FileOps.removeIfPresent(open.partial) } }
        for candidate in candidates {
            let chunks: [(PackEntry, [UInt8])]
            do {
                let read = try withPlainPack(candidate.url) { (plain) throws(BackupError) in
                    let reader = PackReader(url: plain)
                    return try candidate.live.map { entry throws(BackupError) in (entry, try reader.chunk(entry)) }
                }
                guard let read else { continue }
                chunks = read
            } catch .verificationFailed(let reason) {
                Self.logger.error(
                    "a pack to repack is damaged: left as it is",
                    metadata: ["pack": "\(candidate.name)", "reason": "\(reason)"])
                continue
            }
            if open == nil {
                let partial = temporary.appendingPathComponent("gc-repack-\(UUID().uuidString).partial")
                open = (try PackWriter(partial: partial, level: level), partial, [])
            }
            guard let writer = open?.writer else { continue }
            for (entry, chunk) in chunks {
                do {
                    try chunk.withUnsafeBytes { try writer.add($0, sha256: entry.sha256) }
                } catch let error as BackupError {
                    throw error
                } catch {
                    throw .io(path: candidate.url.path, reason: "cannot repack: \(error)")
                }
            }
            open?.olds.append(candidate)
            if writer.size >= Self.targetPackBytes, let sealing = open {
                open = nil
                try seal(sealing.writer, partial: sealing.partial, replacing: sealing.olds, into: &report)
            }
        }
        if let sealing = open {
            open = nil
            try seal(sealing.writer, partial: sealing.partial, replacing: sealing.olds, into: &report)
        }
    }

    /// Seals a repack's new pack, places it durably, moves the rows to it in one transaction,
    /// then deletes the old files.
    private func seal(
        _ writer: PackWriter, partial: URL, replacing olds: [RepackCandidate], into report: inout RepositoryGCReport
    ) throws(BackupError) {
        defer { FileOps.removeIfPresent(partial) }
        let (sealedFile, name, size) = try sealIfNeeded(partial, name: try writer.finish())
        defer { FileOps.removeIfPresent(sealedFile) }
        try place(sealedFile, as: name)
        try reach(.repackPlaced)
        let replaced = olds.filter { $0.name != name }
        try catalog.movePacks(
            replaced.map(\.name),
            into: RepositoryPackRecord(name: name, sizeBytes: size, createdAt: now, offsiteStatus: nil),
            entries: writer.entries)
        try reach(.repackMoved)
        for old in replaced { try remove(old.url) }
        report.packsRepacked += replaced.count
        report.bytesFreed += replaced.reduce(Int64(0)) { $0 + $1.size } - size
    }

    /// Renames a sealed (fsynced) pack to its place under `packs/`, creating its folder, and
    /// makes the rename durable.
    private func place(_ partial: URL, as name: String) throws(BackupError) {
        let destination = root.appendingPathComponent(RepositoryLayout.pack(name, encrypted: sealed != nil))
        let folder = destination.deletingLastPathComponent()
        if !FileOps.exists(folder) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .io(path: folder.path, reason: "cannot create the pack folder: \(error.localizedDescription)")
            }
            try FileOps.fsyncDirectory(folder.deletingLastPathComponent())
        }
        try FileOps.rename(partial, to: destination)
        try FileOps.fsyncDirectory(folder)
    }
}
