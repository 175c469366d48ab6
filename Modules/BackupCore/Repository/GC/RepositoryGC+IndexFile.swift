import Foundation

extension RepositoryGC {
    /// Reads a plain index file (`.json.zst`, ``RepositoryIndex/init(contentsOf:)``). An
    /// encrypted index (`.json.zst.age`) needs the repository's key, which this reader has not:
    /// it is refused, and so the whole collection (see ``LiveChunks``), never guessed at. The
    /// service's collection reads with a ``RepositoryIndexOpener`` instead.
    static func readPlainIndex(at url: URL) throws(BackupError) -> RepositoryIndex {
        guard url.lastPathComponent.hasSuffix(".json.zst") else {
            throw .verificationFailed(
                reason: "index \(url.lastPathComponent) is encrypted and this collection has no key to read it")
        }
        return try RepositoryIndex(contentsOf: url)
    }
}
