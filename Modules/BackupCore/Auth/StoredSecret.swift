import Foundation

/// A write-only secret the operator gives through the settings (the off-site secret access key,
/// the Telegram bot token), kept in a file of the data directory (mode 0600, written atomically
/// like the API token), never in the catalog, a response, a log or an error.
public struct StoredSecret: Sendable {
    /// A change of the stored secret, from a settings change.
    public enum Change: Sendable, Equatable {
        /// Store this secret (its owner judges it first).
        case set(SecretText)
        /// Remove the stored secret (an empty value was sent).
        case remove
    }

    let file: URL

    public init(file: URL) {
        self.file = file
    }

    /// Whether a secret is stored (the file exists; it is read only when used).
    public var isStored: Bool { FileOps.exists(file) }

    /// The stored secret, or nil when none is; a file others may read is refused.
    func read() throws(BackupError) -> SecretText? {
        guard isStored else { return nil }
        return SecretText(try SecretFile.read(file, minimumLength: 1))
    }

    /// Applies `change`: writes the secret atomically with mode 0600, or removes the file.
    func apply(_ change: Change) throws(BackupError) {
        switch change {
        case .set(let secret):
            try FileManager.default.createDirectoryIfNeeded(file.deletingLastPathComponent())
            try SecretFile.write(secret.revealed, to: file)
        case .remove:
            try FileOps.remove(file)
        }
        try FileOps.fsyncDirectory(file.deletingLastPathComponent())
    }
}

extension FileManager {
    fileprivate func createDirectoryIfNeeded(_ directory: URL) throws(BackupError) {
        do {
            try createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(path: directory.path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }
}
