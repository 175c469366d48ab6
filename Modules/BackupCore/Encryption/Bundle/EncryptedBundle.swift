import Foundation

/// What tells an encrypted bundle: the age header's first line, whatever the file's name.
enum EncryptedBundle {
    /// Whether `head` starts as every age file does (`age-encryption.org/v1\n`).
    static func isEncrypted(head: some Collection<UInt8>) -> Bool {
        head.starts(with: AgeFormat.magic)
    }

    /// Whether the file at `url` starts with the age header; false when it is unreadable.
    static func isEncrypted(fileAt url: URL) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: AgeFormat.magic.count) else { return false }
        return isEncrypted(head: [UInt8](head))
    }

    /// Whether an age failure means no given key opens the file (rather than a damaged file):
    /// a bundle encrypted to other recipients, a wrong passphrase, or no key at all. Such a
    /// failure is the reader's, not the bundle's: it is not recorded as the bundle's
    /// verification, and reconciliation leaves the file alone.
    static func isKeyFailure(_ reason: String) -> Bool {
        [AgeFailure.noKeyOpens, AgeFailure.wrongPassphrase, AgeFailure.needsPassphrase].contains(
            .verificationFailed(reason: reason)) || reason.hasPrefix(noKeyPrefix)
    }

    /// How the failure of an encrypted bundle read with no key at all starts (``BundleKeys``).
    static let noKeyPrefix = "age: the bundle is encrypted and no key was given"
}
