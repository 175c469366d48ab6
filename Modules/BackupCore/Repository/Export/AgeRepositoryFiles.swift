import Foundation

/// An encrypted repository's files: every index and pack one age file to the repository's own
/// recipient (``RepositoryCipher``), opened with its identity (``RepositoryKey/unlock(at:keys:)``).
/// An index is decrypted as a stream; a pack into a file of `temporary`, opened and at once
/// unlinked, so no plaintext pack outlives its reading (the open descriptor keeps it readable).
struct AgeRepositoryFiles: RepositoryFiles {
    let identity: AgeIdentity
    let temporary: URL

    var encrypted: Bool { true }

    func openIndex(at url: URL) throws(BackupError) -> any ByteSource {
        try AgeDecryptingReader(source: try InputFile(reading: url), keys: [.identity(identity)])
    }

    func openPack(at url: URL) throws(BackupError) -> InputFile {
        let plain = temporary.appendingPathComponent("pack-read-\(BackupID.make()).pack")
        defer { FileOps.removeIfPresent(plain) }
        try RepositoryCipher.openFile(url, into: plain, keys: [.identity(identity)])
        return try InputFile(reading: plain)
    }
}
