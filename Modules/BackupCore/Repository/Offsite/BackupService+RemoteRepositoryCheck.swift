import Foundation

/// Which packs a check of the bucket's repository reads whole: restic's `--read-data-subset`.
public enum ReadDataSubset: Equatable, Sendable {
    /// Part `part` of `parts` (`1/5` … `5/5`): a pack belongs to the part its name's first eight
    /// hex digits give modulo `parts`, so running every part reads every pack once.
    case part(Int, of: Int)
    /// About this percentage of the packs, chosen at random on each run.
    case percent(Double)

    /// `N/T` (1 ≤ N ≤ T) or `P%` (0 < P ≤ 100); nil for anything else.
    public init?(parsing text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value > 0, value <= 100 {
            self = .percent(value)
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let part = Int(parts[0]), let of = Int(parts[1]), of >= 1, part >= 1, part <= of
        else { return nil }
        self = .part(part, of: of)
    }

    /// The packs of `packs` this subset reads.
    func choose(_ packs: [RemoteRepository.Pack]) -> [RemoteRepository.Pack] {
        switch self {
        case .part(let part, let parts):
            return packs.filter { (UInt64($0.name.prefix(8), radix: 16) ?? 0) % UInt64(parts) == UInt64(part - 1) }
        case .percent(let value):
            let count = Int((Double(packs.count) * value / 100).rounded(.up))
            return Array(packs.shuffled().prefix(count)).sorted { $0.relative < $1.relative }
        }
    }
}

/// What a check of the bucket's repository found.
public struct RemoteRepositoryCheckReport: Codable, Equatable, Sendable {
    /// Indexes (backups) read, and packs listed.
    public var indexes = 0
    public var packs = 0
    /// Chunks the indexes name (each index's distinct chunks, summed).
    public var chunkReferences = 0
    /// Packs read whole (the subset) and their bytes.
    public var packsRead = 0
    public var bytesRead: Int64 = 0
    /// What is wrong, one sentence each; empty when the repository checks clean.
    public var problems: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case indexes, packs, problems
        case chunkReferences = "chunk_references"
        case packsRead = "packs_read"
        case bytesRead = "bytes_read"
    }
}

extension BackupService {
    /// Checks the bucket's repository without trusting this machine's catalog: every index
    /// reads (decrypted with the repository's key when encrypted), every chunk an index names is
    /// listed by the trailer of a pack in the bucket (two or three ranged GETs per pack), and,
    /// with `subset`, the chosen packs are downloaded into `.tmp/` and read whole: the object's
    /// SHA-256 must be its name and every chunk must decompress to its own SHA-256. Problems are
    /// collected, not thrown, so one run names them all. Read-only; it takes no lock, so a
    /// collection running meanwhile can make a chunk look missing (run it again).
    public func checkRemoteRepository(
        readDataSubset subset: ReadDataSubset? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> RemoteRepositoryCheckReport {
        let store = try remoteStore()
        let remote = RemoteRepository(store: store)
        let service = self
        let temporary = dataDirectory.temporary
        return try await store.withClient { (client) async throws(BackupError) -> RemoteRepositoryCheckReport in
            var report = RemoteRepositoryCheckReport()
            let listing = try await remote.listing(with: client)
            let packs = RemoteRepository.packs(in: listing)
            report.packs = packs.count
            var identity: AgeIdentity?
            func unlocked() async throws(BackupError) -> AgeIdentity {
                if let identity { return identity }
                let opened = try await service.remoteRepositoryIdentity(remote, with: client)
                identity = opened
                return opened
            }

            // The chunks the bucket's packs hold, from their trailers.
            let held = try LiveChunks()
            for pack in packs {
                do throws(BackupError) {
                    let entries =
                        pack.encrypted
                        ? try await remote.sealedTrailer(
                            of: pack.relative, size: pack.size, identity: try await unlocked(), with: client)
                        : try await remote.trailer(of: pack.relative, size: pack.size, with: client)
                    try held.add(entries.map(\.sha256))
                } catch {
                    report.problems.append("pack \(pack.name): its trailer does not read: \(Self.problem(error))")
                }
            }

            // Every index, and the chunks it names that no pack holds.
            for relative in listing.keys.sorted() where relative.hasPrefix(RepositoryLayout.indexFolder + "/") {
                let name = String(relative.dropFirst(RepositoryLayout.indexFolder.count + 1))
                guard let id = RepositoryLayout.backupID(ofIndex: name) else { continue }
                report.indexes += 1
                do throws(BackupError) {
                    let bytes = try await client.get(key: remote.key(relative))
                    let key = name.hasSuffix(".age") ? try await unlocked() : nil
                    let index = try RepositoryIndex(stored: bytes, name: name, identity: key)
                    guard index.manifest.id == id else {
                        throw .verificationFailed(reason: "it holds backup \(index.manifest.id)")
                    }
                    let chunks = Array(index.chunkSet)
                    report.chunkReferences += chunks.count
                    let found = try held.filter(chunks)
                    if let first = chunks.first(where: { !found.contains($0) }) {
                        report.problems.append(
                            "backup \(id): \(chunks.count - found.count) of its \(chunks.count) chunks are in no pack "
                                + "in the bucket (one: \(first))")
                    }
                } catch {
                    report.problems.append("index \(name): \(Self.problem(error))")
                }
            }

            // The subset, read whole.
            let chosen = subset?.choose(packs) ?? []
            let total = chosen.reduce(Int64(0)) { $0 + $1.size }
            for pack in chosen {
                let done = report.bytesRead
                do throws(BackupError) {
                    let key = pack.encrypted ? try await unlocked() : nil
                    try await Self.readWhole(pack, remote: remote, identity: key, temporary: temporary, with: client) {
                        progress(JobProgress(backupID: "", phase: .download, doneBytes: done + $0, totalBytes: total))
                    }
                } catch {
                    report.problems.append("pack \(pack.name): \(Self.problem(error))")
                }
                report.packsRead += 1
                report.bytesRead += pack.size
            }
            return report
        }
    }

    /// A problem's sentence: a failed verification's reason as it is, any other error's message.
    private static func problem(_ error: BackupError) -> String {
        if case .verificationFailed(let reason) = error { return reason }
        return error.message
    }

    /// Downloads `pack` into `temporary`, checks its SHA-256 against its name, and reads every
    /// chunk its trailer lists (decrypted first with `identity` when encrypted), each checked
    /// against its own SHA-256. The copies are removed.
    private static func readWhole(
        _ pack: RemoteRepository.Pack, remote: RemoteRepository, identity: AgeIdentity?, temporary: URL,
        with client: S3Client, progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) {
        let partial = temporary.appendingPathComponent("check-\(pack.name).partial")
        let plain = temporary.appendingPathComponent("check-\(pack.name).plain")
        defer {
            FileOps.removeIfPresent(partial)
            FileOps.removeIfPresent(plain)
        }
        let (_, sha256) = try await client.download(key: remote.key(pack.relative), to: partial, progress: progress)
        guard sha256 == pack.name else {
            throw .verificationFailed(reason: "its SHA-256 is \(sha256), not its name")
        }
        try await BlockingWork.run { () throws(BackupError) in
            var readable = partial
            if let identity {
                try RepositoryCipher.openFile(partial, into: plain, keys: [.identity(identity)])
                readable = plain
            }
            let reader = PackReader(url: readable)
            let file = try InputFile(reading: readable)
            for entry in try reader.entries() { _ = try reader.chunk(entry, in: file) }
        }
    }
}
