import Crypto
import Foundation

/// What one pull of an incremental backup from the bucket fetched.
struct RepositoryPullReport: Equatable, Sendable {
    /// The backup's record once local (`store = "repository"`).
    var record: BackupRecord
    /// The packs downloaded into the local repository, by name, in the order placed.
    var packsDownloaded: [String] = []
    /// Packs downloaded to read what they hold and then dropped, none of their chunks needed
    /// (only an encrypted pack whose trailer could not be read in place).
    var packsDiscarded: [String] = []
    /// Bytes of whole objects downloaded: packs, the index, and `config.json` and the key when
    /// the local repository lacked them (ranged reads of plain packs' trailers are not counted).
    var bytesDownloaded: Int64 = 0
}

extension BackupService {
    /// Brings remote-only incremental backup `record` into the local repository, the way back on
    /// a new machine. From the bucket's copy of the repository (``RemoteRepository``):
    /// `config.json` (and the encrypted repository's key) when the local repository has none;
    /// the index, checked against the record's SHA-256 and read (decrypted with the repository's
    /// key, opened by the bundle keys); then only the packs holding chunks the local repository
    /// lacks: each candidate's trailer is read with a few ranged GETs (an encrypted pack's last
    /// chunks decrypted in memory) and the pack downloaded only when it holds a missing chunk.
    ///
    /// Each pack is placed as the writer places its own (`.tmp/`, its SHA-256 checked against
    /// its name, fsync, rename into `packs/aa/`, folder fsync) and its rows inserted after; the
    /// index is placed last, then the record becomes local. A crash midway leaves packs without
    /// an index (garbage for the next GC, or reused by the next pull), never a record or an
    /// index naming a chunk the repository lacks. The caller holds the job lock.
    func pullRepositoryBackup(
        _ record: BackupRecord, progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws(BackupError) -> RepositoryPullReport {
        guard RepositoryLayout.backupID(ofIndex: record.filename) == record.id else {
            throw .verificationFailed(
                reason: "\(record.filename.prefix(80).debugDescription) is not backup \(record.id)'s index")
        }
        let store = try remoteStore()
        let remote = RemoteRepository(store: store)
        let service = self
        return try await store.withClient { (client) async throws(BackupError) -> RepositoryPullReport in
            var pull = RepositoryPull(
                service: service, remote: remote, client: client, record: record, progress: progress)
            return try await pull.run()
        }
    }

    /// ``pullRepositoryBackup(_:progress:)`` from a thread that may block (a restore's
    /// preparation); returns the record, now local.
    func pullRepositoryBackupBlocking(
        _ record: BackupRecord, progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> BackupRecord {
        let service = self
        return try BlockingBridge.wait { () async throws(BackupError) -> BackupRecord in
            try await service.pullRepositoryBackup(record, progress: progress).record
        }
    }
}

/// One pull's state (see ``BackupService/pullRepositoryBackup(_:progress:)``).
private struct RepositoryPull {
    let service: BackupService
    let remote: RemoteRepository
    let client: S3Client
    let record: BackupRecord
    let progress: @Sendable (JobProgress) -> Void
    var report: RepositoryPullReport
    var doneBytes: Int64 = 0
    var totalBytes: Int64 = 0

    init(
        service: BackupService, remote: RemoteRepository, client: S3Client, record: BackupRecord,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) {
        self.service = service
        self.remote = remote
        self.client = client
        self.record = record
        self.progress = progress
        report = RepositoryPullReport(record: record)
    }

    var root: URL { service.dataDirectory.repository }
    var temporary: URL { service.dataDirectory.temporary }
    var catalog: Catalog { service.catalog }

    mutating func run() async throws(BackupError) -> RepositoryPullReport {
        let listing = try await remote.listing(with: client)
        let indexPath = "\(RepositoryLayout.indexFolder)/\(record.filename)"
        guard listing[indexPath] != nil else {
            throw .verificationFailed(
                reason: "backup \(record.id): its index \(remote.key(indexPath)) is not in the bucket")
        }
        let repository = try await repositoryFiles(listing)
        let indexBytes = try await client.get(key: remote.key(indexPath))
        report.bytesDownloaded += Int64(indexBytes.count)
        let sha256 = SHA256.hash(data: indexBytes).hexString
        if let expected = record.sha256, !expected.isEmpty, expected != sha256 {
            throw .verificationFailed(
                reason: "backup \(record.id): the bucket's index has SHA-256 \(sha256), the catalog says \(expected)")
        }
        let identity = record.filename.hasSuffix(".age") ? repository.identity : nil
        if record.filename.hasSuffix(".age"), identity == nil {
            throw .verificationFailed(
                reason: "backup \(record.id): its index is encrypted but the bucket's repository is not")
        }
        let index = try RepositoryIndex(stored: indexBytes, name: record.filename, identity: identity)
        if let problem = index.problems(expectedID: record.id).first {
            throw .verificationFailed(reason: "the index file \(record.filename): \(problem)")
        }
        // Nothing was written so far: the key opened and the index is this backup's.
        try await place(repository)
        let needed = Array(index.chunkSet)
        var missing = Set(needed).subtracting(try catalog.knownChunks(among: needed))
        if !missing.isEmpty {
            let known = Set(try catalog.repositoryPacks().map(\.name))
            let candidates = RemoteRepository.packs(in: listing).filter { !known.contains($0.name) }
            try await fetch(candidates, missing: &missing, identity: repository.identity)
        }
        if let chunk = missing.sorted().first {
            throw .verificationFailed(
                reason:
                    "backup \(record.id): \(missing.count) chunk(s) its index names are in no pack of the bucket (first: \(chunk))"
            )
        }
        try await placeIndex(indexBytes, as: indexPath)
        var local = record
        local.store = RepositoryLayout.storeName
        local.describe(index.manifest)
        local.logicalBytes = index.logicalBytes
        try catalog.update(local)
        report.record = local
        return report
    }

    /// The bucket's repository as the pull needs it: its config, and for an encrypted one its
    /// identity (the key file the local repository has, else the bucket's, opened with the
    /// operator's keys), with the files the local repository lacks, to place once the index
    /// checks out.
    struct Repository: Sendable {
        var identity: AgeIdentity?
        /// `config.json`'s bytes when the local repository has none.
        var config: [UInt8]?
        /// The key file's bytes when the local repository lacks it.
        var key: [UInt8]?
    }

    /// Reads the bucket's `config.json` (and key) and checks it against the local repository's:
    /// the same repository, or both unencrypted (plain chunks are named by their content alone,
    /// so two plain repositories' packs mix safely). Writes nothing.
    private mutating func repositoryFiles(_ listing: [String: Int64]) async throws(BackupError) -> Repository {
        guard listing[RepositoryLayout.config] != nil else {
            throw .verificationFailed(reason: "the bucket holds no \(remote.key(RepositoryLayout.config))")
        }
        let bytes = try await client.get(key: remote.key(RepositoryLayout.config))
        let theirs: RepositoryConfig
        do {
            theirs = try JSONDecoder.backupManager().decode(RepositoryConfig.self, from: Data(bytes))
        } catch {
            throw .verificationFailed(reason: "\(remote.key(RepositoryLayout.config)) is not a repository's config")
        }
        let root = self.root
        let configURL = root.appendingPathComponent(RepositoryLayout.config)
        let keyURL = root.appendingPathComponent(RepositoryLayout.keyFile)
        let ours = try await BlockingWork.run { () throws(BackupError) -> RepositoryConfig? in
            guard FileOps.exists(configURL) else { return nil }
            do {
                return try JSONDecoder.backupManager().decode(RepositoryConfig.self, from: Data(contentsOf: configURL))
            } catch {
                throw .io(path: configURL.path, reason: "not a repository's config.json: \(error)")
            }
        }
        if let ours, ours.id != theirs.id, ours.encrypted || theirs.encrypted {
            throw .invalidInput(fields: [
                "offsite.prefix":
                    "the local repository \(root.path) (id \(ours.id)) is not the bucket's (id \(theirs.id)), and one of them is encrypted: its backups cannot be pulled into this one"
            ])
        }
        var repository = Repository(config: ours == nil ? bytes : nil)
        if ours == nil { report.bytesDownloaded += Int64(bytes.count) }
        guard theirs.encrypted else { return repository }
        let sealed: [UInt8]
        if FileOps.exists(keyURL) {
            do {
                sealed = [UInt8](try Data(contentsOf: keyURL))
            } catch {
                throw .io(path: keyURL.path, reason: "cannot read the repository's key: \(error.localizedDescription)")
            }
        } else {
            guard listing[RepositoryLayout.keyFile] != nil else {
                throw .verificationFailed(reason: "the bucket holds no \(remote.key(RepositoryLayout.keyFile))")
            }
            sealed = try await client.get(key: remote.key(RepositoryLayout.keyFile))
            report.bytesDownloaded += Int64(sealed.count)
            repository.key = sealed
        }
        let keys = try service.bundleKeys()
        let loaded = try keys.load()
        guard !loaded.isEmpty else { throw keys.noKeyFailure }
        let text = try RepositoryCipher.open(sealed, keys: loaded, name: keyURL.lastPathComponent)
        guard let identity = try AgeIdentity.parseFile(String(decoding: text, as: UTF8.self)).first else {
            throw .verificationFailed(reason: "\(remote.key(RepositoryLayout.keyFile)): holds no identity")
        }
        repository.identity = identity
        return repository
    }

    /// Places the key, then `config.json`, when the local repository lacked them (durably).
    private func place(_ repository: Repository) async throws(BackupError) {
        let (root, temporary) = (self.root, self.temporary)
        try await BlockingWork.run { () throws(BackupError) in
            if let key = repository.key {
                try RepositoryWriter.place(
                    key, partial: temporary.appendingPathComponent("pulled-repository-key.age.partial"),
                    as: root.appendingPathComponent(RepositoryLayout.keyFile), root: root)
            }
            if let config = repository.config {
                try RepositoryWriter.place(
                    config, partial: temporary.appendingPathComponent("pulled-config.json.partial"),
                    as: root.appendingPathComponent(RepositoryLayout.config), root: root)
            }
        }
    }

    /// Reads each candidate pack's trailer in place (a plain pack's with two ranged GETs, an
    /// encrypted one's with two or three, its last chunks decrypted:
    /// ``RemoteRepository/sealedTrailer(of:size:identity:with:)``) and downloads only those
    /// holding a chunk still missing. An encrypted pack whose trailer does not read that way is
    /// downloaded and kept only when it holds one.
    private mutating func fetch(
        _ packs: [RemoteRepository.Pack], missing: inout Set<String>, identity: AgeIdentity?
    ) async throws(BackupError) {
        var chosen: [(pack: RemoteRepository.Pack, known: Bool)] = []
        var stillMissing = missing
        for pack in packs where !stillMissing.isEmpty {
            let entries: [PackEntry]
            if pack.encrypted {
                guard let identity else { continue }
                do throws(BackupError) {
                    entries = try await remote.sealedTrailer(
                        of: pack.relative, size: pack.size, identity: identity, with: client)
                } catch .verificationFailed {
                    chosen.append((pack, false))
                    continue
                }
            } else {
                entries = try await remote.trailer(of: pack.relative, size: pack.size, with: client)
            }
            let hashes = Set(entries.map(\.sha256))
            guard !hashes.isDisjoint(with: stillMissing) else { continue }
            chosen.append((pack, true))
            stillMissing.subtract(hashes)
        }
        totalBytes += chosen.reduce(0) { $0 + $1.pack.size }
        for (pack, known) in chosen where known || !missing.isEmpty {
            let needed = missing
            let entries = try await download(pack, identity: pack.encrypted ? identity : nil) { entries in
                known || entries.contains { needed.contains($0.sha256) }
            }
            missing.subtract(entries.map(\.sha256))
        }
    }

    /// Downloads `pack` into `.tmp/`, checks its SHA-256 against its name, reads its trailer
    /// (decrypting a copy with `identity` for an encrypted one) and, when `keep` says so, places
    /// it durably and records its rows. Returns the entries placed (none when dropped).
    private mutating func download(
        _ pack: RemoteRepository.Pack, identity: AgeIdentity?,
        keep: @escaping @Sendable ([PackEntry]) -> Bool = { _ in true }
    ) async throws(BackupError) -> [PackEntry] {
        let partial = temporary.appendingPathComponent("pull-\(pack.name).partial")
        FileOps.removeIfPresent(partial)
        defer { FileOps.removeIfPresent(partial) }
        let (before, total, id, progress) = (doneBytes, totalBytes, record.id, self.progress)
        let (size, sha256) = try await client.download(key: remote.key(pack.relative), to: partial) { done in
            progress(JobProgress(backupID: id, phase: .download, doneBytes: before + done, totalBytes: total))
        }
        doneBytes += size
        report.bytesDownloaded += size
        guard sha256 == pack.name else {
            throw .verificationFailed(
                reason: "pack \(remote.key(pack.relative)): its SHA-256 is \(sha256), not its name")
        }
        let (root, temporary, catalog, now) = (self.root, self.temporary, self.catalog, service.now())
        let placed = try await BlockingWork.run { () throws(BackupError) -> [PackEntry]? in
            let entries: [PackEntry]
            if let identity {
                let plain = temporary.appendingPathComponent("pull-\(pack.name).plain")
                defer { FileOps.removeIfPresent(plain) }
                try RepositoryCipher.openFile(partial, into: plain, keys: [.identity(identity)])
                entries = try PackReader(url: plain).entries()
            } else {
                entries = try PackReader(url: partial).entries()
            }
            guard keep(entries) else { return nil }
            try FileOps.fsyncFile(partial)
            let destination = root.appendingPathComponent(RepositoryLayout.pack(pack.name, encrypted: identity != nil))
            let folder = destination.deletingLastPathComponent()
            try RepositoryFolders.make(folder, below: root)
            try FileOps.rename(partial, to: destination)
            try FileOps.fsyncDirectory(folder)
            try catalog.insertPack(
                RepositoryPackRecord(
                    name: pack.name, sizeBytes: size, createdAt: now, offsiteStatus: OffsiteStatus.uploaded.rawValue),
                entries: entries)
            return entries
        }
        guard let placed else {
            report.packsDiscarded.append(pack.name)
            return []
        }
        report.packsDownloaded.append(pack.name)
        return placed
    }

    /// Places the index (after every chunk it names has its row); one already there from a pull
    /// that died before its record was updated is replaced.
    private func placeIndex(_ bytes: [UInt8], as relative: String) async throws(BackupError) {
        let (root, temporary, id) = (self.root, self.temporary, record.id)
        try await BlockingWork.run { () throws(BackupError) in
            let destination = root.appendingPathComponent(relative)
            FileOps.removeIfPresent(destination)
            try RepositoryWriter.place(
                bytes, partial: temporary.appendingPathComponent("pulled-index-\(id).partial"), as: destination,
                root: root)
        }
    }
}
