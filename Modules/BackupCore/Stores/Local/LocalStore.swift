import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The local store: bundles and their `.sha256` sidecars in the data directory's `backups/`.
///
/// Only this type joins `backups/` with a bundle's name; keys are checked by ``BundleKey``, so
/// nothing is read or written outside the folder.
public struct LocalStore: BundleStore {
    /// The name the catalog records for bundles kept here.
    public static let storeName = "local"

    /// The steps of ``put(partial:sha256:as:)``, in order; a crash between two of them leaves
    /// what the step before produced (tests watch them through ``observe``).
    enum PutStep: String, Sendable, CaseIterable {
        /// The partial bundle's bytes are on disk.
        case bundleSynced
        /// The sidecar is written and synced in `.tmp/`.
        case sidecarSynced
        /// The sidecar is in `backups/` and the folder synced (no bundle yet: nothing is listed).
        case sidecarInPlace
        /// The bundle is in `backups/` and the folder synced: the put is complete.
        case bundleInPlace
    }

    public var name: String { Self.storeName }
    /// `backups/`.
    let directory: URL
    /// `backups/.tmp/`: partial files, on the same file system so a rename moves them in.
    let temporary: URL
    /// `backups/quarantine/`.
    let quarantineDirectory: URL
    /// Sees each step of a put as it completes.
    var observe: @Sendable (PutStep) -> Void = { _ in }

    /// The store of `dataDirectory`'s `backups/`.
    public init(dataDirectory: DataDirectory) {
        directory = dataDirectory.backups
        temporary = dataDirectory.temporary
        quarantineDirectory = dataDirectory.quarantine
    }

    /// The one "finish a bundle" of Backup Manager (the backup writer's, an import's): the
    /// partial file is fsynced, the sidecar is written and fsynced in `.tmp/`, renamed into
    /// `backups/` and the folder fsynced, then the bundle is renamed in and the folder fsynced
    /// again. The sidecar comes first, so a bundle in `backups/` always has its sidecar
    /// (`sha256sum -c` works on whatever a crash leaves); a sidecar left alone by a crash names
    /// no bundle and reconciliation sets it aside.
    public func put(partial: URL, sha256: String, as key: String) throws(BackupError) {
        let key = try BundleKey.validated(key)
        guard partial.deletingLastPathComponent().standardizedFileURL.path == temporary.standardizedFileURL.path else {
            throw .io(path: partial.path, reason: "a bundle enters the store from backups/.tmp/ only")
        }
        let destination = file(key)
        guard !FileOps.exists(destination) else {
            throw .io(path: destination.path, reason: "a bundle with this name is already in the store")
        }
        try FileOps.fsyncFile(partial)
        observe(.bundleSynced)
        try placeSidecar(for: key, sha256: sha256)
        try FileOps.rename(partial, to: destination)
        try FileOps.fsyncDirectory(directory)
        try FileOps.fsyncDirectory(temporary)
        observe(.bundleInPlace)
    }

    /// Makes a bundle already in `backups/` durable with a sidecar saying `sha256`
    /// (reconciliation adopting a bundle found without a record): the bundle is fsynced, the
    /// sidecar replaced atomically through `.tmp/` and the folder fsynced, the same durability as
    /// ``put(partial:sha256:as:)``.
    func seal(_ key: String, sha256: String) throws(BackupError) {
        let key = try BundleKey.validated(key)
        try FileOps.fsyncFile(file(key))
        observe(.bundleSynced)
        try placeSidecar(for: key, sha256: sha256)
    }

    /// Writes `key`'s sidecar in `.tmp/`, fsyncs it, renames it into `backups/` (replacing a
    /// stale one) and fsyncs the folder.
    private func placeSidecar(for key: String, sha256: String) throws(BackupError) {
        let sidecarName = BundleName.sidecar(for: key)
        let partialSidecar = temporary.appendingPathComponent(sidecarName + ".partial")
        FileOps.removeIfPresent(partialSidecar)
        var placed = false
        defer { if !placed { FileOps.removeIfPresent(partialSidecar) } }
        let sidecar = try OutputFile(creating: partialSidecar)
        try sidecar.write(Array("\(sha256)  \(key)\n".utf8))
        try sidecar.sync()
        sidecar.close()
        observe(.sidecarSynced)
        try FileOps.rename(partialSidecar, to: directory.appendingPathComponent(sidecarName))
        placed = true
        try FileOps.fsyncDirectory(directory)
        observe(.sidecarInPlace)
    }

    public func read(_ key: String, offset: Int64, length: Int) throws(BackupError) -> [UInt8] {
        let url = file(try BundleKey.validated(key))
        guard let size = FileOps.size(of: url) else { throw Self.absent(key) }
        guard offset >= 0, length >= 0, offset <= size, Int64(length) <= size - offset else {
            throw .invalidQuery(
                parameter: "range", reason: "bytes \(offset)+\(length) lie outside the bundle's \(size) bytes")
        }
        let input = try InputFile(reading: url)
        var bytes = [UInt8](repeating: 0, count: length)
        let count = try bytes.withMutableBytes { (buffer) throws(BackupError) in
            try input.readFully(into: buffer, at: offset)
        }
        guard count == length else {
            throw .io(path: url.path, reason: "the bundle ended after \(offset + Int64(count)) bytes")
        }
        return bytes
    }

    public func open<T>(_ key: String, _ body: (URL) throws(BackupError) -> T) throws(BackupError) -> T {
        let url = file(try BundleKey.validated(key))
        guard FileOps.isRegularFile(url) else { throw Self.absent(key) }
        return try body(url)
    }

    /// The bundle's file, for a reader that outlives one call (an upload streams it while
    /// awaiting the network); the bundle must be there.
    func bundleFile(_ key: String) throws(BackupError) -> URL {
        let url = file(try BundleKey.validated(key))
        guard FileOps.isRegularFile(url) else { throw Self.absent(key) }
        return url
    }

    public func size(of key: String) throws(BackupError) -> Int64? {
        let url = file(try BundleKey.validated(key))
        return FileOps.isRegularFile(url) ? FileOps.size(of: url) : nil
    }

    public func checksum(of key: String) throws(BackupError) -> String? {
        let url = directory.appendingPathComponent(BundleName.sidecar(for: try BundleKey.validated(key)))
        guard FileOps.isRegularFile(url), let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return text.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// Removes the bundle first, then its sidecar, then fsyncs the folder.
    public func delete(_ key: String) throws(BackupError) {
        let url = file(try BundleKey.validated(key))
        // A bundle that cannot be removed is an error (the caller keeps its record); a missing one is not.
        try FileOps.remove(url)
        FileOps.removeIfPresent(directory.appendingPathComponent(BundleName.sidecar(for: key)))
        try FileOps.fsyncDirectory(directory)
    }

    public func location(of key: String) -> String {
        ((try? BundleKey.validated(key)).map(file) ?? directory).path
    }

    public func list() throws(BackupError) -> [StoredBundle] {
        try names().compactMap { name in
            guard BundleName.isBundleFilename(name), FileOps.isRegularFile(file(name)),
                let size = FileOps.size(of: file(name))
            else { return nil }
            return StoredBundle(key: name, sizeBytes: size)
        }
    }

    private func file(_ key: String) -> URL { directory.appendingPathComponent(key) }

    private func names() throws(BackupError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        } catch {
            if !FileOps.exists(directory) { return [] }
            throw .io(path: directory.path, reason: "cannot list: \(error.localizedDescription)")
        }
    }

    private static func absent(_ key: String) -> BackupError {
        .io(path: key, reason: "no such bundle in the local store")
    }
}

extension LocalStore {
    /// Files in `backups/` that belong there besides bundles and sidecars (`repository/`: the
    /// incremental repository, never a bundle's business).
    static let ownFiles: Set<String> = [
        "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.sqlite-journal", ".job.lock",
        ".server.lock", ".tmp", "quarantine", RepositoryLayout.directoryName,
    ]

    /// What is in `backups/` but is neither the store's own files, nor a bundle, nor the sidecar
    /// of a bundle that is there or of one in `keepingSidecarsOf` (the catalog's).
    func strayFiles(keepingSidecarsOf known: Set<String>) throws(BackupError) -> [String] {
        let bundles = Set(try list().map(\.key))
        return try names().filter { name in
            if Self.ownFiles.contains(name) || bundles.contains(name) { return false }
            if name.hasSuffix(BundleName.sidecarExtension) {
                let bundle = String(name.dropLast(BundleName.sidecarExtension.count))
                return !(known.contains(bundle) || bundles.contains(bundle))
            }
            return true
        }
    }

    /// Moves a file (a stray, or a bundle that failed to verify, and its sidecar) from
    /// `backups/` into `quarantine/`, never overwriting what is there; returns the names moved.
    @discardableResult
    func quarantine(_ name: String, withSidecar: Bool = false) throws(BackupError) -> [String] {
        guard !name.contains("/"), name != "..", name != ".", !Self.ownFiles.contains(name) else {
            throw .io(path: name, reason: "not a file of backups/ that can be quarantined")
        }
        var moved: [String] = []
        for candidate in withSidecar ? [name, BundleName.sidecar(for: name)] : [name] {
            let source = file(candidate)
            guard FileOps.exists(source) else { continue }
            var target = quarantineDirectory.appendingPathComponent(candidate)
            var suffix = 1
            while FileOps.exists(target) {
                target = quarantineDirectory.appendingPathComponent("\(candidate).\(suffix)")
                suffix += 1
            }
            try FileOps.rename(source, to: target)
            moved.append(candidate)
        }
        if !moved.isEmpty { try FileOps.fsyncDirectory(directory) }
        return moved
    }
}
