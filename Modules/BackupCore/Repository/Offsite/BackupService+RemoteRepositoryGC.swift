import Foundation

/// What one garbage collection of the bucket's repository did (or, in a dry run, would do).
public struct RemoteRepositoryGCReport: Codable, Equatable, Sendable {
    /// The packs deleted from the bucket, by name.
    public var packsDeleted: [String] = []
    public var bytesFreed: Int64 = 0
    /// Packs left because what they hold cannot be told here (encrypted, unknown to the catalog).
    public var packsUnknown: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case packsDeleted = "packs_deleted"
        case bytesFreed = "bytes_freed"
        case packsUnknown = "packs_unknown"
    }
}

extension BackupService {
    /// Garbage collection of the bucket's repository (``RemoteRepository``): the live chunks are
    /// those every index under `<prefix>/repository/index/` names (each downloaded and read,
    /// decrypted with the repository's key when encrypted); a pack none of whose chunks is live
    /// is deleted from the bucket and its catalog row's `offsite_status` reset. What a pack holds
    /// comes from the catalog's rows when the catalog knows it, else from its trailer read with
    /// ranged GETs (an encrypted one's decrypted with the repository's key; left alone when no key
    /// here opens it). No repack
    /// happens off-site. An index that cannot be read stops the collection before anything is
    /// deleted. Rerunnable: each run starts from a fresh listing. The live chunks go into a
    /// scratch SQLite database (``LiveChunks``), so memory stays flat however many indexes the
    /// bucket holds. The caller holds the job lock (a dry run needs none); a dry run reads the
    /// indexes of `excluded` backups as already deleted (remote retention's would-be deletions).
    func collectRemoteRepository(
        in store: S3Store, dryRun: Bool, excluding excluded: Set<String> = []
    ) async throws(BackupError) -> RemoteRepositoryGCReport {
        let remote = RemoteRepository(store: store)
        let catalog = self.catalog
        let service = self
        return try await store.withClient { (client) async throws(BackupError) -> RemoteRepositoryGCReport in
            var report = RemoteRepositoryGCReport()
            let listing = try await remote.listing(with: client)
            let packs = RemoteRepository.packs(in: listing)
            guard !packs.isEmpty else { return report }
            let live = try LiveChunks()
            var identity: AgeIdentity?
            for relative in listing.keys.sorted() where relative.hasPrefix(RepositoryLayout.indexFolder + "/") {
                let name = String(relative.dropFirst(RepositoryLayout.indexFolder.count + 1))
                guard let id = RepositoryLayout.backupID(ofIndex: name), !excluded.contains(id) else { continue }
                let bytes = try await client.get(key: remote.key(relative))
                if name.hasSuffix(".age"), identity == nil {
                    identity = try await service.remoteRepositoryIdentity(remote, with: client)
                }
                try live.add(RepositoryIndex(stored: bytes, name: name, identity: identity), named: name, as: id)
            }
            let known = Dictionary(
                try catalog.repositoryPacks().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for pack in packs {
                let chunks: [String]
                if known[pack.name] != nil {
                    chunks = try catalog.chunkHashes(inPack: pack.name)
                } else if !pack.encrypted {
                    chunks = try await remote.trailer(of: pack.relative, size: pack.size, with: client).map(\.sha256)
                } else {
                    // An encrypted pack's trailer, read in the bucket with the repository's key;
                    // left when no key here opens it or it does not read.
                    if identity == nil { identity = try? await service.remoteRepositoryIdentity(remote, with: client) }
                    guard let key = identity,
                        let entries = try? await remote.sealedTrailer(
                            of: pack.relative, size: pack.size, identity: key, with: client)
                    else {
                        report.packsUnknown += 1
                        continue
                    }
                    chunks = entries.map(\.sha256)
                }
                guard try !live.containsAny(chunks) else { continue }
                if !dryRun {
                    try await client.delete(key: remote.key(pack.relative))
                    if known[pack.name] != nil { try catalog.setPackOffsite(pack.name, status: nil) }
                }
                report.packsDeleted.append(pack.name)
                report.bytesFreed += pack.size
            }
            return report
        }
    }
}

extension RemoteRepository {
    /// The chunks the trailer of the plain pack at `relative` (of `size` bytes) lists, read with
    /// two ranged GETs (its length, then itself). A pack that does not read as one fails.
    func trailer(of relative: String, size: Int64, with client: S3Client) async throws(BackupError) -> [PackEntry] {
        let objectKey = key(relative)
        let smallest = Int64(PackFormat.magic.count + 8)
        guard size >= smallest else { throw .verificationFailed(reason: "pack \(objectKey): too short") }
        let tail = try await client.get(key: objectKey, range: (size - 8)...(size - 1))
        let length = tail.reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        guard tail.count == 8, length > 0, length <= PackFormat.maximumTrailerBytes, length <= size - smallest else {
            throw .verificationFailed(reason: "pack \(objectKey): its trailer length does not fit")
        }
        let bytes = try await client.get(key: objectKey, range: (size - 8 - length)...(size - 9))
        do {
            return try JSONDecoder().decode(PackTrailer.self, from: Data(bytes)).chunks
        } catch {
            throw .verificationFailed(reason: "pack \(objectKey): its trailer is not valid JSON")
        }
    }

    /// Deletes backup `record`'s index from the bucket (absent is not an error): the backup's copy
    /// is gone; its packs go with the next garbage collection.
    func deleteIndex(of record: BackupRecord, with client: S3Client) async throws(BackupError) {
        try await client.delete(key: key("\(RepositoryLayout.indexFolder)/\(record.filename)"))
    }
}

extension BackupService {
    /// The repository's identity for reading the bucket's copy: from the local repository's key
    /// file when there is one, else from the bucket's `keys/repository-key.age`; opened with the
    /// operator's keys.
    func remoteRepositoryIdentity(
        _ remote: RemoteRepository, with client: S3Client
    ) async throws(BackupError)
        -> AgeIdentity
    {
        let keys = try bundleKeys().load()
        let local = dataDirectory.repository.appendingPathComponent(RepositoryLayout.keyFile)
        if FileOps.exists(local) { return try RepositoryKey.unlock(at: dataDirectory.repository, keys: keys) }
        let sealed = try await client.get(key: remote.key(RepositoryLayout.keyFile))
        let text = try RepositoryCipher.open(sealed, keys: keys, name: local.lastPathComponent)
        guard let identity = try AgeIdentity.parseFile(String(decoding: text, as: UTF8.self)).first else {
            throw .verificationFailed(reason: "\(remote.key(RepositoryLayout.keyFile)): holds no identity")
        }
        return identity
    }
}
