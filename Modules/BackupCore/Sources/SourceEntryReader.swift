import Crypto
import Foundation

/// A source kind's side of verification: it claims its entries while the archive streams past
/// (before the manifest, which comes last, is known), extracts or hashes them, and once the
/// manifest is read checks its own fields against what it extracted.
protocol SourceEntryReader {
    /// Whether `entry` belongs to this kind of source.
    func claims(_ entry: TarEntry) -> Bool
    /// Reads a claimed entry's data from `tar`, returning it as the manifest would list it.
    /// `onChunk` runs after each piece of data (for progress).
    mutating func read(
        _ entry: TarEntry, from tar: inout TarReader, onChunk: () -> Void
    ) throws(BackupError)
        -> Manifest.Entry
    /// Checks the manifest's record of this source against the extracted entries; each
    /// difference is a problem. Runs only when the archive's entries matched the manifest.
    /// Throws what says nothing about the bundle (a checking tool that is missing).
    func check(_ source: Manifest.Source) throws(BackupError) -> [String]
    /// Entries this reader read that belong to none of `sources` (the manifest's, of every
    /// kind); each is a problem. Runs once, with ``check(_:)``.
    func strays(among sources: [Manifest.Source]) -> [String]
    /// Removes whatever was extracted.
    func discard()
}

extension SourceEntryReader {
    /// A kind whose entries have fixed names (`database.sqlite`) has no strays.
    func strays(among sources: [Manifest.Source]) -> [String] { [] }
}

extension SourceEntryReader {
    /// Copies a claimed entry's data into `destination` while hashing it, `chunkSize` bytes at a
    /// time, and returns the entry as the manifest would list it: how a database's single file
    /// (`database.sqlite`, `database.pgdump`) is extracted for its source's checks. Anything but a
    /// regular file is a verification failure.
    func extractFile(
        _ entry: TarEntry, from tar: inout TarReader, to destination: URL, chunkSize: Int, onChunk: () -> Void
    ) throws(BackupError) -> Manifest.Entry {
        guard entry.type == .file else {
            throw .verificationFailed(reason: "\(entry.path) is a \(entry.type.rawValue), not a file")
        }
        let output = try OutputFile(creating: destination)
        defer { output.close() }
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if Task.isCancelled { throw .cancelled }
            let count = try tar.readEntry(into: buffer)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try output.write(chunk)
            onChunk()
        }
        return Manifest.Entry(
            path: entry.path, size: entry.size, sha256: hash.finalize().hexString, mode: entry.mode, mtime: entry.mtime)
    }
}
