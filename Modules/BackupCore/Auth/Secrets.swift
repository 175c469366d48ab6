import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Secret files in the data directory: created with mode 0600, refused when others can read them.
enum SecretFile {
    /// Reads a secret, refusing a file that group or others may read, or one shorter than
    /// `minimumLength` characters (an S3 secret is the provider's, not ours to lengthen).
    static func read(_ url: URL, minimumLength: Int = 16) throws(BackupError) -> String {
        try checkPrivate(url)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw .io(path: url.path, reason: "cannot read")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.utf8.count >= max(1, minimumLength) else {
            throw .io(path: url.path, reason: "holds no usable secret (\(minimumLength) characters at least)")
        }
        return secret
    }

    /// Refuses a file that group or others may read (or that cannot be examined): a secret's
    /// file must be the owner's alone (mode 0600).
    static func checkPrivate(_ url: URL) throws(BackupError) {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw .io(path: url.path, reason: "cannot read: \(errnoDescription())")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw .io(
                path: url.path,
                reason:
                    "is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 on it")
        }
    }

    /// Reads the secret at `url`, generating 32 random bytes (hex) there first when it does not exist.
    /// Returns the secret and whether it was just generated.
    static func readOrCreate(_ url: URL) throws(BackupError) -> (secret: String, created: Bool) {
        if FileManager.default.fileExists(atPath: url.path) { return (try read(url), false) }
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }.hexString
        try write(secret, to: url)
        return (secret, true)
    }

    /// Writes `secret` to `url` atomically (a 0600 file beside it, synced, then renamed over it).
    static func write(_ secret: String, to url: URL) throws(BackupError) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).new")
        FileOps.removeIfPresent(temporary)
        let file = try OutputFile(creating: temporary, mode: 0o600)
        do throws(BackupError) {
            try file.write(Array((secret + "\n").utf8))
            try file.sync()
        } catch {
            file.close()
            FileOps.removeIfPresent(temporary)
            throw error
        }
        file.close()
        try FileOps.rename(temporary, to: url)
    }
}

/// Compares two secrets in time that depends only on their lengths, not on where they differ.
public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    var difference = UInt8(left.count == right.count ? 0 : 1)
    for index in 0..<max(left.count, right.count) {
        let a = index < left.count ? left[index] : 0
        let b = index < right.count ? right[index] : 0
        difference |= a ^ b
    }
    return difference == 0
}
