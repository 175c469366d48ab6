import Foundation

extension RepositoryIndex {
    /// The largest index a reader accepts once decompressed: the manifest (a few hundred bytes
    /// per entry) and 67 bytes per chunk, so room for a few terabytes in 64 KiB chunks.
    static let maximumBytes = 2 << 30

    /// Reads the index file at `url` (zstd-compressed JSON, opened through `files`) and checks
    /// that it hangs together: ``formatName`` and ``currentVersion``, the manifest of backup
    /// `expectedID` (when given), and a chunk list for every regular file among its entries, in
    /// their order. Anything else is ``BackupError/verificationFailed(reason:)`` naming the file.
    static func read(
        at url: URL, files: any RepositoryFiles = PlainRepositoryFiles(), expectedID: String?
    ) throws(BackupError) -> RepositoryIndex {
        let name = url.lastPathComponent
        guard FileOps.isRegularFile(url) else { throw .verificationFailed(reason: "the index file \(name) is missing") }
        let json: [UInt8]
        do throws(BackupError) {
            json = try decompressed(try ZstdReader(source: try files.openIndex(at: url)) { _ in })
        } catch .verificationFailed(let reason) {
            throw .verificationFailed(reason: "the index file \(name): \(reason)")
        }
        let index: RepositoryIndex
        do {
            index = try JSONDecoder.backupManager().decode(RepositoryIndex.self, from: Data(json))
        } catch let error as BackupError {
            throw .verificationFailed(reason: "the index file \(name): \(error.message)")
        } catch {
            throw .verificationFailed(reason: "the index file \(name) cannot be read: \(error)")
        }
        if let problem = index.problems(expectedID: expectedID).first {
            throw .verificationFailed(reason: "the index file \(name): \(problem)")
        }
        return index
    }

    /// What is wrong with the index's own structure (nothing read from packs); empty when it
    /// hangs together.
    func problems(expectedID: String?) -> [String] {
        var problems: [String] = []
        if format != Self.formatName { problems.append("it is not an incremental index (format \(format))") }
        if version != Self.currentVersion { problems.append("index version \(version) is not supported") }
        if let expectedID, manifest.id != expectedID {
            problems.append("its manifest id is \(manifest.id), expected \(expectedID)")
        }
        let regular = manifest.entries.filter { $0.type == .file }
        guard regular.map(\.path) == files.map(\.path) else {
            problems.append("its chunk lists do not name the manifest's files, in order")
            return problems
        }
        for (entry, file) in zip(regular, files) {
            if entry.size > 0 && file.chunks.isEmpty || entry.size == 0 && !file.chunks.isEmpty {
                problems.append("\(entry.path) has \(entry.size) bytes but \(file.chunks.count) chunks")
            }
            if let chunk = file.chunks.first(where: { !RepositoryLayout.isPackName($0) }) {
                problems.append("\(entry.path) lists \(chunk.prefix(80).debugDescription), not a SHA-256")
            }
        }
        return problems
    }

    /// Everything `reader` gives, at most ``maximumBytes``.
    private static func decompressed(_ reader: ZstdReader) throws(BackupError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withMutableBytes { (raw) throws(BackupError) in try reader.read(into: raw) }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            guard bytes.count <= maximumBytes else {
                throw .verificationFailed(reason: "it is larger than \(maximumBytes >> 20) MiB decompressed")
            }
        }
    }
}
