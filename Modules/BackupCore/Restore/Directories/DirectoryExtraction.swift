import Foundation

/// The second pass of a restore of directories: reads the (already verified) bundle again and
/// extracts each directory source into its staging tree with a ``TreeExtractor``, checking
/// every entry against the manifest the first pass read. The other entries (the database, the
/// manifest) are skipped. Blocking; runs on the job's thread.
struct DirectoryExtraction {
    /// One directory source to extract: its name in the bundle, its staging tree, and the
    /// manifest's entries for it.
    struct Item {
        var sourceName: String
        var staging: URL
        var expected: [Manifest.Entry]
    }

    var keys: BundleKeys = .none

    /// Extracts every item from `bundle`; any entry that is not as the manifest says, or that
    /// lies outside the items, fails it with ``BackupError/verificationFailed(reason:)``.
    /// `progress` gets the compressed bytes read so far.
    func extract(bundle: URL, items: [Item], progress: (Int64) -> Void = { _ in }) throws(BackupError) {
        let file = try InputFile(reading: bundle)
        let reading = try CodecName.reader(for: file, keys: keys) { _ in }
        let stream = reading.reader
        var extractors: [TreeExtractor] = []
        for item in items {
            extractors.append(
                try TreeExtractor(staging: item.staging, sourceName: item.sourceName, expected: item.expected))
        }
        var tar = TarReader { (buffer) throws(BackupError) in try stream.read(into: buffer) }
        while let entry = try tar.nextEntry() {
            if let extractor = extractors.first(where: { $0.claims(entry) }) {
                try extractor.extract(entry, from: &tar) { progress(stream.compressedBytesRead) }
            } else if entry.path.hasPrefix(TreeExtractor.filesPrefix) {
                throw .verificationFailed(
                    reason: "tar entry \(entry.path.debugDescription) belongs to no directory of the manifest")
            }
        }
        try tar.ensureOnlyPaddingFollows()
        var problems: [String] = []
        for extractor in extractors { problems += try extractor.finish() }
        guard problems.isEmpty else { throw .verificationFailed(reason: problems.joined(separator: "; ")) }
    }
}
