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
