import Foundation
import GRDB

/// The chunks some index still needs: every index file in the repository's `index/`, read one
/// at a time, its hashes streamed into a private scratch SQLite database (SQLite's own
/// temporary file, deleted when closed), so memory stays constant however large the
/// repository grows.
///
/// Blocking: built and asked on the job's thread.
final class LiveChunks {
    /// The index files read, by backup id (the name says whose backup each is).
    private(set) var indexes: [String: URL] = [:]
    private let scratch: DatabaseQueue

    /// Reads every index under `root`'s `index/` except those of `excluded` backups (a dry
    /// run's would-be deletions). An index that cannot be read stops everything
    /// (``BackupError/verificationFailed(reason:)`` naming it): collecting garbage without knowing
    /// every live chunk could delete one still needed.
    convenience init(
        repository root: URL, excluding excluded: Set<String> = [],
        read: (URL) throws(BackupError) -> RepositoryIndex
    ) throws(BackupError) {
        try self.init()
        for (id, url) in try Self.indexFiles(in: root) where !excluded.contains(id) {
            try add(try read(url), named: url.lastPathComponent, as: id)
            indexes[id] = url
        }
    }

    /// An empty set, filled index by index with ``add(_:named:as:)`` (the bucket's indexes).
    init() throws(BackupError) {
        do {
            scratch = try DatabaseQueue(path: "")
            try scratch.write { db in try db.execute(sql: "CREATE TABLE live(hash TEXT PRIMARY KEY) WITHOUT ROWID") }
        } catch {
            throw .io(path: "live chunks", reason: "cannot create a scratch database: \(Catalog.describe(error))")
        }
    }

    /// Adds the chunks of `index`, read from the file `name`, which must be backup `id`'s.
    func add(_ index: RepositoryIndex, named name: String, as id: String) throws(BackupError) {
        guard index.manifest.id == id else {
            throw .verificationFailed(reason: "index \(name) holds backup \(index.manifest.id), not \(id)")
        }
        try add(index.files.lazy.flatMap(\.chunks))
    }

    /// Every index file under `root`'s `index/`, by backup id; other names are left alone.
    static func indexFiles(in root: URL) throws(BackupError) -> [(String, URL)] {
        let folder = root.appendingPathComponent(RepositoryLayout.indexFolder, isDirectory: true)
        guard FileOps.exists(folder) else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .io(path: folder.path, reason: "cannot list the indexes: \(error.localizedDescription)")
        }
        return names.sorted().compactMap { name in
            RepositoryLayout.backupID(ofIndex: name).map { ($0, folder.appendingPathComponent(name)) }
        }
    }

    /// Whether some index needs the chunk with this SHA-256.
    func contains(_ hash: String) throws(BackupError) -> Bool {
        try live { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM live WHERE hash = ?", arguments: [hash]) ?? false }
    }

    /// Whether some index needs any of `hashes`.
    func containsAny(_ hashes: [String]) throws(BackupError) -> Bool {
        try live { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM live WHERE hash = ?")
            for hash in hashes where try Bool.fetchOne(statement, arguments: [hash]) ?? false { return true }
            return false
        }
    }

    /// The hashes among `hashes` that some index needs.
    func filter(_ hashes: [String]) throws(BackupError) -> Set<String> {
        try live { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM live WHERE hash = ?")
            var found: Set<String> = []
            for hash in hashes {
                if try Bool.fetchOne(statement, arguments: [hash]) ?? false { found.insert(hash) }
            }
            return found
        }
    }

    /// Adds `hashes` to the set.
    func add(_ hashes: some Sequence<String>) throws(BackupError) {
        do {
            try scratch.write { db in
                let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO live(hash) VALUES (?)")
                for hash in hashes { try statement.execute(arguments: [hash]) }
            }
        } catch {
            throw .io(path: "live chunks", reason: Catalog.describe(error))
        }
    }

    private func live<T>(_ body: (Database) throws -> T) throws(BackupError) -> T {
        do { return try scratch.read(body) } catch { throw .io(path: "live chunks", reason: Catalog.describe(error)) }
    }
}
