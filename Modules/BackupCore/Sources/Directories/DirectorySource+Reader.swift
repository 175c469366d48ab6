import Crypto
import Foundation

extension DirectorySource {
    /// Verification's side of directory sources: claims every entry under `files/`, hashes file
    /// data as it streams past (nothing is extracted), and checks each source's shape against
    /// the manifest: its root entry is a directory, its name is one path component, its path is
    /// absolute, no entry under `files/` belongs to no listed source, and every entry's folder
    /// came before it as a directory entry (as the writer lays trees out, and as the restore's
    /// extraction needs them).
    struct Reader: SourceEntryReader {
        var chunkSize = 256 * 1024
        /// The type of each `files/<name>` root entry seen, by name.
        private var roots: [String: TarEntryType] = [:]
        /// One entry's path for every name seen under `files/`, for the stray check.
        private var names: [String: String] = [:]
        /// Every directory entry seen so far.
        private var folders: Set<String> = []
        /// Entries whose folder had not come before them (the first few).
        private var orphans: [String] = []
        private var orphanCount = 0

        func claims(_ entry: TarEntry) -> Bool {
            entry.path.hasPrefix(DirectorySource.entryRoot + "/")
        }

        mutating func read(
            _ entry: TarEntry, from tar: inout TarReader, onChunk: () -> Void
        ) throws(BackupError)
            -> Manifest.Entry
        {
            let name = String(entry.path.dropFirst(DirectorySource.entryRoot.count + 1).prefix { $0 != "/" })
            if names[name] == nil { names[name] = entry.path }
            let root = DirectorySource.entryRoot + "/" + name
            if entry.path == root {
                roots[name] = entry.type
            } else if let slash = entry.path.utf8.lastIndex(of: UInt8(ascii: "/")),
                !folders.contains(String(entry.path[..<slash]))
            {
                orphanCount += 1
                if orphans.count < 10 { orphans.append(entry.path) }
            }
            if entry.type == .directory { folders.insert(entry.path) }
            var sha256: String?
            if entry.type == .file {
                var hash = SHA256()
                let buffer = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: Int(min(Int64(chunkSize), max(entry.size, 1))), alignment: 16)
                defer { buffer.deallocate() }
                while true {
                    if Task.isCancelled { throw .cancelled }
                    let count = try tar.readEntry(into: buffer)
                    if count == 0 { break }
                    hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                    onChunk()
                }
                sha256 = hash.finalize().hexString
            }
            return Manifest.Entry(
                path: entry.path, type: entry.type, size: entry.size, sha256: sha256, mode: entry.mode,
                mtime: entry.mtime, target: entry.linkTarget)
        }

        func check(_ source: Manifest.Source) -> [String] {
            let name = source.name
            guard let figures = source.directory else {
                return ["directory source \(name.debugDescription) has no figures"]
            }
            var problems: [String] = []
            if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.utf8.contains(0) {
                problems.append("directory source name \(name.debugDescription) is not one path component")
            }
            if !figures.path.hasPrefix("/") {
                problems.append("directory source \(name) has the relative path \(figures.path.debugDescription)")
            }
            let root = DirectorySource.entryRoot + "/" + name
            switch roots[name] {
            case nil: problems.append("directory source \(name): its root entry \(root) is missing")
            case .directory: break
            case let type?: problems.append("directory source \(name): its root entry \(root) is a \(type.rawValue)")
            }
            return problems
        }

        func strays(among sources: [Manifest.Source]) -> [String] {
            let listed = Set(sources.filter { $0.kind == .directory }.map(\.name))
            var problems = names.filter { !listed.contains($0.key) }.values.sorted()
                .map { "entry \($0) belongs to no directory source of the manifest" }
            problems += orphans.map { "entry \($0) comes before its folder (or the bundle has no entry for it)" }
            if orphanCount > orphans.count {
                problems.append("… and \(orphanCount - orphans.count) more entries before their folders")
            }
            return problems
        }

        func discard() {}
    }
}
