import Foundation

extension BundleEntrySink {
    /// Writes each source's entries in turn and returns `template` with their records as its
    /// sources and every entry written as its entries: the manifest a bundle or an index holds.
    /// `progress` gets the bytes of entries written so far, over all sources.
    func write(
        _ sources: [any BackupSource], into template: Manifest, progress: (Int64) -> Void
    ) throws(BackupError) -> Manifest {
        var manifest = template
        manifest.sources = []
        var written: Int64 = 0
        for source in sources {
            let before = written
            manifest.sources.append(try source.write(into: self) { bytes in progress(before + bytes) })
            written = entries.reduce(0) { $0 + $1.size }
        }
        manifest.entries = entries
        return manifest
    }
}
