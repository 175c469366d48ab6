import Foundation
import Logging

/// Garbage collection of the local repository: what `prune` does after retention deleted
/// indexes (and what a dry run estimates).
///
/// In order:
/// 1. The live set: every chunk some index in `index/` names (``LiveChunks``). An index that
///    cannot be read stops the collection before anything is touched.
/// 2. Packs the catalog lists whose file is gone: the backups needing a chunk only such a pack
///    held (and no pack file without rows holds) are marked `missing`, the reason naming the
///    pack, then its rows are dropped.
/// 3. Pack files without rows (a crash between a pack's placing and its rows, or after a
///    repack's move): recorded from their trailer when an index needs a chunk no row locates,
///    else deleted.
/// 4. Packs none of whose chunks is live: rows dropped (one transaction), then the file.
/// 5. Packs with less than half their bytes live: their live chunks (each read back and checked
///    against its hash) go into new packs of about ``targetPackBytes``; each new pack is fsynced
///    and placed, its rows take over from the old packs' in one transaction
///    (``Catalog/movePacks(_:into:entries:)``), then the old files are deleted.
///
/// So a row never points at a missing pack, and a crash anywhere leaves at most pack files
/// without rows, which the next run sorts out: collecting again is always safe.
///
/// In an encrypted repository (`.pack.age`) the indexes are read with the repository's key
/// (``RepositoryIndexOpener``), a sealed pack is opened by decrypting it into `.tmp/`
/// (``sealed``), and a repack's new pack is sealed to the repository's recipient before it is
/// placed. Without the key (``sealed`` nil) sealed packs are never opened: dead ones still go,
/// but a mostly dead one is not repacked and one without rows is left where it is.
///
/// Blocking: runs on the job's thread, under the job lock (a dry run reads only and needs none).
struct RepositoryGC {
    /// A step at which a test can stop a collection (``interruption``), or a debug build pause
    /// for a kill (`BACKUP_TEST_PAUSE_AT=gc:<step>`).
    enum Step: String, Sendable {
        /// An orphan pack's rows were recorded.
        case orphanRecorded = "orphan-recorded"
        /// A dead pack's rows are gone; its file is not yet.
        case deadRowsDeleted = "dead-rows-deleted"
        /// A repack's new pack is durable in its place; no row points at it yet.
        case repackPlaced = "repack-placed"
        /// The rows moved to the new pack; the old files are still there.
        case repackMoved = "repack-moved"
    }

    /// The size a repack's new pack is sealed at (as the backup's writer seals its packs).
    static let targetPackBytes: Int64 = 12 << 20

    let catalog: Catalog
    /// The repository's root (`backups/repository/`).
    let root: URL
    /// Where new packs are written before they are placed (`backups/.tmp/`).
    let temporary: URL
    /// The zstd level of repacked chunks.
    let level: Int
    let now: Date
    /// Reads an index file (``readPlainIndex(at:)`` unless a test or an encrypted repository
    /// gives its own).
    var readIndex: (URL) throws(BackupError) -> RepositoryIndex = { (url) throws(BackupError) in
        try RepositoryGC.readPlainIndex(at: url)
    }
    /// How to open and seal the packs of an encrypted repository; nil: sealed packs are never
    /// opened (not repacked, left when without rows).
    var sealed: SealedPacks?
    /// Called at each ``Step``; a test throws to stop the collection there.
    var interruption: (Step) throws(BackupError) -> Void = { _ in }

    static let logger = Logger(label: "repository-gc")

    /// Collects garbage, or with `dryRun` only reports what it would free, counting the
    /// indexes of the `excluding` backups (a dry prune's would-be deletions) as gone.
    func run(dryRun: Bool, excluding: Set<String> = []) throws(BackupError) -> RepositoryGCReport {
        var report = RepositoryGCReport()
        let live = try LiveChunks(repository: root, excluding: excluding, read: readIndex)
        var files = try packFiles()
        var listed = Dictionary(uniqueKeysWithValues: try catalog.repositoryPacks().map { ($0.name, $0) })

        var orphans: [(name: String, url: URL, entries: [PackEntry])] = []
        for (name, url) in files.sorted(by: { $0.key < $1.key }) where listed[name] == nil {
            guard let entries = try orphanEntries(name, at: url, dryRun: dryRun, into: &report) else {
                files[name] = nil
                continue
            }
            orphans.append((name, url, entries))
        }
        let inOrphans = Set(orphans.lazy.flatMap(\.entries).map(\.sha256))
        for name in listed.keys.sorted() where files[name] == nil {
            try forgetLostPack(name, live: live, recoverable: inOrphans, dryRun: dryRun, into: &report)
            listed[name] = nil
        }
        var recovered: Set<String> = []
        for orphan in orphans {
            if let record = try sortOrphan(orphan, live: live, dryRun: dryRun, into: &report) {
                listed[orphan.name] = record
                recovered.insert(orphan.name)
            } else {
                files[orphan.name] = nil
            }
        }
        var candidates: [RepackCandidate] = []
        // In a dry run a recovered pack has no rows yet: it stays as it is.
        for name in listed.keys.sorted() where !(dryRun && recovered.contains(name)) {
            guard let url = files[name] else { continue }
            let rows = try catalog.chunkRows(ofPack: name)
            let liveHashes = try live.filter(rows.map(\.sha256))
            let size = FileOps.size(of: url) ?? listed[name]?.sizeBytes ?? 0
            if liveHashes.isEmpty {
                try deleteDeadPack(name, at: url, dryRun: dryRun)
                report.packsDeleted += 1
                report.bytesFreed += size
                continue
            }
            let liveRows = rows.filter { liveHashes.contains($0.sha256) }
            let liveBytes = liveRows.reduce(Int64(0)) { $0 + $1.length }
            guard liveBytes * 2 < size else { continue }
            // A sealed pack is opened with the repository's key, when the collection has it.
            guard sealed != nil || !url.lastPathComponent.hasSuffix(".age") else { continue }
            candidates.append(RepackCandidate(name: name, url: url, size: size, live: liveRows))
        }
        try repack(candidates, dryRun: dryRun, into: &report)
        return report
    }

    /// The trailer of a pack file the catalog does not list; nil when it cannot be read: an
    /// encrypted one (no key here to read it: it is left alone) or a damaged one (no row names
    /// it and nothing can be read from it: garbage however it came to be, deleted).
    private func orphanEntries(
        _ name: String, at url: URL, dryRun: Bool, into report: inout RepositoryGCReport
    ) throws(BackupError) -> [PackEntry]? {
        // A dry run opens no sealed pack (that would write its plaintext into `.tmp/`).
        guard !(dryRun && url.lastPathComponent.hasSuffix(".age")) else { return nil }
        do {
            return try withPlainPack(url) { (plain) throws(BackupError) in try PackReader(url: plain).entries() }
        } catch .verificationFailed(let reason) {
            Self.logger.warning(
                "a damaged pack file no row names is deleted", metadata: ["pack": "\(name)", "reason": "\(reason)"])
            report.packsDeleted += 1
            report.bytesFreed += FileOps.size(of: url) ?? 0
            if !dryRun { try remove(url) }
            return nil
        }
    }

    /// A pack file the catalog does not list (the file of a backup or a repack that crashed
    /// before its rows, or whose rows moved on): recorded from its trailer (and returned) when
    /// an index needs one of its chunks that no row locates, else deleted as garbage.
    private func sortOrphan(
        _ orphan: (name: String, url: URL, entries: [PackEntry]), live: LiveChunks, dryRun: Bool,
        into report: inout RepositoryGCReport
    ) throws(BackupError) -> RepositoryPackRecord? {
        let size = FileOps.size(of: orphan.url) ?? 0
        let needed = try live.filter(orphan.entries.map(\.sha256))
        let unserved = needed.subtracting(try catalog.knownChunks(among: Array(needed)))
        guard unserved.isEmpty else {
            let record = RepositoryPackRecord(name: orphan.name, sizeBytes: size, createdAt: now, offsiteStatus: nil)
            if !dryRun {
                try catalog.insertPack(record, entries: orphan.entries)
                try reach(.orphanRecorded)
            }
            report.packsRecovered += 1
            return record
        }
        if !dryRun { try remove(orphan.url) }
        report.packsDeleted += 1
        report.bytesFreed += size
        return nil
    }

    /// A pack the catalog lists whose file is gone: every backup whose index needs one of the
    /// chunks only it served (and no pack file without rows holds) is marked `missing`, then its rows are dropped (that order, so a
    /// crash in between is found again by the next run).
    private func forgetLostPack(
        _ name: String, live: LiveChunks, recoverable: Set<String>, dryRun: Bool,
        into report: inout RepositoryGCReport
    ) throws(BackupError) {
        let lost = try live.filter(try catalog.chunkRows(ofPack: name).map(\.sha256)).subtracting(recoverable)
        report.packsLost.append(name)
        if !lost.isEmpty {
            for (id, url) in live.indexes.sorted(by: { $0.key < $1.key }) {
                guard !lost.isDisjoint(with: try readIndex(url).chunkSet), (try? catalog.record(id: id)) != nil
                else { continue }
                if !dryRun {
                    try catalog.markMissing(
                        id: id, reason: "the repository's pack \(name) is gone: a chunk this backup needs was in it",
                        at: now)
                }
                if !report.backupsMissing.contains(id) { report.backupsMissing.append(id) }
            }
        }
        Self.logger.error(
            "a pack file the catalog lists is gone", metadata: ["pack": "\(name)", "live_chunks": "\(lost.count)"])
        if !dryRun { try catalog.deletePack(named: name) }
    }

    /// Drops a dead pack's rows, then its file.
    private func deleteDeadPack(_ name: String, at url: URL, dryRun: Bool) throws(BackupError) {
        guard !dryRun else { return }
        try catalog.deletePack(named: name)
        try reach(.deadRowsDeleted)
        try remove(url)
    }

    /// Passes `step`: a test's ``interruption`` may stop the run there; a debug build may pause
    /// for a kill (see ``RestorePause``).
    func reach(_ step: Step) throws(BackupError) {
        try interruption(step)
        RestorePause.reach("gc:\(step.rawValue)")
    }

    /// Every pack file under `packs/`, by name (`packs/aa/<name>.pack[.age]`).
    func packFiles() throws(BackupError) -> [String: URL] {
        let packs = root.appendingPathComponent(RepositoryLayout.packsFolder, isDirectory: true)
        var found: [String: URL] = [:]
        for folder in try list(packs) where folder.count == 2 {
            let directory = packs.appendingPathComponent(folder, isDirectory: true)
            for file in try list(directory) {
                let name = file.hasSuffix(".pack.age") ? String(file.dropLast(9)) : String(file.dropLast(5))
                guard file.hasSuffix(".pack") || file.hasSuffix(".pack.age"), RepositoryLayout.isPackName(name),
                    name.hasPrefix(folder)
                else { continue }
                found[name] = directory.appendingPathComponent(file)
            }
        }
        return found
    }

    private func list(_ directory: URL) throws(BackupError) -> [String] {
        guard FileOps.exists(directory) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        } catch {
            throw .io(path: directory.path, reason: "cannot list: \(error.localizedDescription)")
        }
    }

    /// Deletes a pack file durably (its folder fsynced).
    func remove(_ url: URL) throws(BackupError) {
        try FileOps.remove(url)
        try FileOps.fsyncDirectory(url.deletingLastPathComponent())
    }
}
