import Foundation

/// How a reader opens a repository's stored files: an index as the stream of its
/// zstd-compressed JSON, a pack as a file whose chunks are read by offset.
///
/// The seam for encryption: ``PlainRepositoryFiles`` reads them as they are; an encrypted
/// repository's opener decrypts an index as a stream and a pack into a file of `.tmp/` (opened,
/// then unlinked, so at most the pack being read is kept in the clear).
protocol RepositoryFiles {
    /// Whether the stored files are age-encrypted (their names end in `.age`).
    var encrypted: Bool { get }
    /// The plaintext of the index file at `url`: zstd-compressed JSON.
    func openIndex(at url: URL) throws(BackupError) -> any ByteSource
    /// The plaintext pack file at `url`, open for reading by offset.
    func openPack(at url: URL) throws(BackupError) -> InputFile
}

/// An unencrypted repository's files, read as they are stored.
struct PlainRepositoryFiles: RepositoryFiles {
    var encrypted: Bool { false }

    func openIndex(at url: URL) throws(BackupError) -> any ByteSource { try InputFile(reading: url) }

    func openPack(at url: URL) throws(BackupError) -> InputFile { try InputFile(reading: url) }
}
