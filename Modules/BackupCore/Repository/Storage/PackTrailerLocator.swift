import Foundation

/// A ``ChunkLocator`` built from the packs themselves, with no catalog: every pack file under a
/// repository's `packs/` is listed and its trailer read (``PackReader/entries()``), so a
/// repository copied elsewhere (another machine, an off-site copy brought back) can be read.
///
/// A pack whose trailer does not read is left out and named in ``unreadablePacks`` (its chunks
/// are then in no pack, which a reader reports for the file that needs them). A chunk two packs
/// hold (a repack interrupted before the old pack went) is found in the first by name. Holds
/// every chunk's place in memory (about 150 bytes each). Blocking: the job's thread.
struct PackTrailerLocator: ChunkLocator {
    /// Every chunk's place, by its SHA-256.
    private(set) var locations: [String: ChunkLocation] = [:]
    /// The packs read, by name, with their sizes.
    private(set) var packs: [String: Int64] = [:]
    /// Packs whose trailer could not be read, with why.
    private(set) var unreadablePacks: [String: String] = [:]

    /// Reads the trailer of every pack under `repository`'s `packs/` (`packs/aa/<sha256>.pack`;
    /// anything else there is ignored). A repository with no `packs/` holds no chunk.
    init(repository: URL) throws(BackupError) {
        let folder = repository.appendingPathComponent(RepositoryLayout.packsFolder, isDirectory: true)
        for (name, url) in try Self.packFiles(in: folder) {
            do throws(BackupError) {
                let entries = try PackReader(url: url).entries()
                packs[name] = FileOps.size(of: url) ?? 0
                for entry in entries where locations[entry.sha256] == nil {
                    locations[entry.sha256] = ChunkLocation(pack: name, entry: entry)
                }
            } catch .verificationFailed(let reason) {
                unreadablePacks[name] = reason
            }
        }
    }

    func locate(_ sha256: String) throws(BackupError) -> ChunkLocation? { locations[sha256] }

    /// The pack files under `folder`, by name, in name order: `aa/<name>.pack` where `aa` is
    /// the name's first two digits.
    private static func packFiles(in folder: URL) throws(BackupError) -> [(name: String, url: URL)] {
        guard FileOps.exists(folder) else { return [] }
        var found: [(name: String, url: URL)] = []
        for prefix in try names(in: folder) where prefix.utf8.count == 2 {
            let subfolder = folder.appendingPathComponent(prefix, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: subfolder.path, isDirectory: &isDirectory),
                isDirectory.boolValue
            else { continue }
            for file in try names(in: subfolder) where file.hasSuffix(".pack") {
                let name = String(file.dropLast(".pack".count))
                let url = subfolder.appendingPathComponent(file)
                guard RepositoryLayout.isPackName(name), name.hasPrefix(prefix), FileOps.isRegularFile(url) else {
                    continue
                }
                found.append((name, url))
            }
        }
        return found.sorted { $0.name < $1.name }
    }

    private static func names(in folder: URL) throws(BackupError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw .io(path: folder.path, reason: "cannot list: \(error.localizedDescription)")
        }
    }
}
