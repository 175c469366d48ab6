import Crypto
import Foundation

/// Stores a backup's chunks in the repository, each once: every chunk is looked up (in batches,
/// against the catalog's `repository_chunk` and the pack being written), and only new ones are
/// compressed into the open pack in `.tmp/`. A pack is sealed once it reaches ``packTarget``
/// bytes (and at the end): fsynced, renamed into `packs/aa/`, the folder fsynced, and only then
/// are its rows inserted (one transaction). So a chunk has a row only when its pack is durable.
///
/// Blocking: runs on the writer's thread. Memory: one lookup batch (at most ``batchBytes`` of
/// chunk data) and the open pack's hashes.
final class ChunkPacker {
    /// The size at which the open pack is sealed: 12 MiB. A debug build takes
    /// `BACKUP_TEST_PACK_BYTES` from the environment instead, so that a crash test's small
    /// backups write many packs and its kills land between them.
    static let packTarget: Int64 = {
        #if DEBUG
            if let text = ProcessInfo.processInfo.environment["BACKUP_TEST_PACK_BYTES"], let bytes = Int64(text),
                bytes > 0
            {
                return bytes
            }
        #endif
        return 12 << 20
    }()
    /// Chunks held for one lookup: at most this many, and at most ``batchBytes`` of data.
    static let batchCount = Catalog.chunkLookupBatch
    static let batchBytes = 16 << 20

    private let root: URL
    private let temporary: URL
    private let catalog: Catalog
    private let backupID: String
    private let level: Int
    /// What sealed packs are encrypted to (the repository's recipient); nil: in the clear.
    private let lock: AgeLock?
    private let packTarget: Int64
    private let now: () -> Date
    /// Called after each pack is sealed, placed and recorded, with its number (from 1): tests
    /// inject a failure there.
    private let afterPack: (Int) throws(BackupError) -> Void

    /// Chunks waiting for their lookup: hash and bytes, in order, each hash once.
    private var pending: [(hash: String, bytes: [UInt8])] = []
    private var pendingHashes: Set<String> = []
    private var pendingBytes = 0
    /// The pack being written, its partial file and the hashes it holds.
    private var open: (writer: PackWriter, partial: URL)?
    private var openHashes: Set<String> = []
    private var packCount = 0

    /// The packs this backup placed, by name, and their bytes.
    private(set) var packs: [String] = []
    private(set) var packBytes: Int64 = 0
    /// Chunks seen, and those stored (new to the repository).
    private(set) var chunksSeen = 0
    private(set) var chunksStored = 0

    init(
        root: URL, temporary: URL, catalog: Catalog, backupID: String, level: Int, lock: AgeLock? = nil,
        packTarget: Int64 = packTarget,
        now: @escaping () -> Date, afterPack: @escaping (Int) throws(BackupError) -> Void = { _ in }
    ) {
        self.root = root
        self.temporary = temporary
        self.catalog = catalog
        self.backupID = backupID
        self.level = level
        self.lock = lock
        self.packTarget = packTarget
        self.now = now
        self.afterPack = afterPack
    }

    /// Hashes `chunk` and returns its SHA-256 (hex); stores it unless the repository (or this
    /// backup) has it already.
    func add(_ chunk: UnsafeRawBufferPointer) throws(BackupError) -> String {
        let hash = SHA256.hash(data: chunk).hexString
        chunksSeen += 1
        guard !openHashes.contains(hash), pendingHashes.insert(hash).inserted else { return hash }
        pending.append((hash, [UInt8](chunk)))
        pendingBytes += chunk.count
        if pending.count >= Self.batchCount || pendingBytes >= Self.batchBytes { try flush() }
        return hash
    }

    /// Looks the waiting chunks up and packs the new ones.
    func flush() throws(BackupError) {
        guard !pending.isEmpty else { return }
        let known = try catalog.knownChunks(among: pending.map(\.hash))
        for (hash, bytes) in pending where !known.contains(hash) && !openHashes.contains(hash) {
            if Task.isCancelled { throw .cancelled }
            let writer = try openPack()
            // `withUnsafeBytes` rethrows untyped errors; carry the typed one out by hand.
            var failure: BackupError?
            bytes.withUnsafeBytes { raw in
                do throws(BackupError) { try writer.add(raw, sha256: hash) } catch { failure = error }
            }
            if let failure { throw failure }
            openHashes.insert(hash)
            chunksStored += 1
            if writer.size >= packTarget { try seal() }
        }
        pending.removeAll(keepingCapacity: true)
        pendingHashes.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// Stores what waits and seals the open pack: every chunk seen has a row when it returns.
    func finish() throws(BackupError) {
        try flush()
        try seal()
    }

    /// Removes the open pack's partial file (after a failure or a cancel). Sealed packs stay:
    /// their rows are in, so the next backup reuses their chunks, or prune removes them.
    func abandon() {
        if let open {
            FileOps.removeIfPresent(open.partial)
            FileOps.removeIfPresent(Self.sealedPartial(open.partial))
        }
        open = nil
        openHashes = []
    }

    private func openPack() throws(BackupError) -> PackWriter {
        if let open { return open.writer }
        packCount += 1
        let partial = temporary.appendingPathComponent("pack-\(backupID)-\(packCount).partial")
        FileOps.removeIfPresent(partial)
        let writer = try PackWriter(partial: partial, level: level)
        open = (writer, partial)
        return writer
    }

    /// Seals the open pack, puts it in its place durably, then records its rows.
    private func seal() throws(BackupError) {
        guard let (writer, partial) = open else { return }
        var name = try writer.finish()
        var size = writer.size
        var placed = partial
        if let lock {
            // The whole pack becomes one age file; its name is the SHA-256 of that file.
            placed = Self.sealedPartial(partial)
            (name, size) = try RepositoryCipher.sealFile(partial, into: placed, lock: lock)
            FileOps.removeIfPresent(partial)
        }
        let destination = root.appendingPathComponent(RepositoryLayout.pack(name, encrypted: lock != nil))
        let folder = destination.deletingLastPathComponent()
        try RepositoryFolders.make(folder, below: root)
        try FileOps.rename(placed, to: destination)
        try FileOps.fsyncDirectory(folder)
        open = nil
        RestorePause.reach("incremental:pack-placed")
        try catalog.insertPack(
            RepositoryPackRecord(name: name, sizeBytes: size, createdAt: now(), offsiteStatus: nil),
            entries: writer.entries)
        RestorePause.reach("incremental:pack-recorded")
        openHashes = []
        packs.append(name)
        packBytes += size
        try afterPack(packCount)
    }

    /// Where the encrypted copy of the partial pack `partial` is written.
    private static func sealedPartial(_ partial: URL) -> URL {
        partial.appendingPathExtension("age")
    }
}
