import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The data directory's own age identity, `DATA_DIR/backup-key`: the private key every bundle
/// (in recipient mode) is encrypted to, in the format `age-keygen` writes, so
/// `age -d -i DATA_DIR/backup-key FILE` opens a bundle without this tool.
///
/// Written once, with mode 0600, and never overwritten (bundles encrypted to a replaced key
/// would be lost); refused when group or others may read it, as the API token is. Its content
/// never reaches the catalog, a response, a log or an off-site object.
public struct BackupKey: Sendable {
    /// The key file.
    public let file: URL

    public init(dataDirectory: DataDirectory) {
        file = dataDirectory.backupKey
    }

    /// Whether the key file exists (it is read only when used).
    public var exists: Bool { FileOps.exists(file) }

    /// Generates an identity and writes it: to a 0600 file beside the key file, synced, then
    /// linked into place, which fails when the key file exists, so a key is never replaced,
    /// even by two commands at once. Returns the identity (its recipient is what to print).
    public func generate(now: Date) throws(BackupError) -> AgeIdentity {
        let directory = file.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(path: directory.path, reason: "cannot create directory: \(error.localizedDescription)")
        }
        guard !exists else { throw Self.refusal(file) }
        let identity = AgeIdentity.generate()
        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).\(BackupID.make()).new")
        defer { FileOps.removeIfPresent(temporary) }
        let output = try OutputFile(creating: temporary, mode: 0o600)
        do throws(BackupError) {
            try output.write(Array(identity.fileText(created: now).utf8))
            try output.sync()
        } catch {
            output.close()
            throw error
        }
        output.close()
        guard link(temporary.path, file.path) == 0 else {
            if errno == EEXIST { throw Self.refusal(file) }
            throw .io(path: file.path, reason: "cannot create: \(errnoDescription())")
        }
        try FileOps.fsyncDirectory(directory)
        return identity
    }

    /// The identities in the key file (one, as generated), or nil when there is no key file.
    /// A file others may read, or one that holds no identity, is refused.
    public func read() throws(BackupError) -> [AgeIdentity]? {
        guard exists else { return nil }
        return try Self.readIdentities(file)
    }

    /// The recipient of the key file's (first) identity, or nil when there is no key file.
    public func recipient() throws(BackupError) -> AgeRecipient? {
        try read()?.first?.recipient
    }

    /// Reads an identity file (the key file, or one given with `--identity`), refusing one that
    /// group or others may read.
    public static func readIdentities(_ url: URL) throws(BackupError) -> [AgeIdentity] {
        guard FileOps.exists(url) else { throw .fileNotFound(path: url.path) }
        try SecretFile.checkPrivate(url)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw .io(path: url.path, reason: "cannot read it as text")
        }
        do throws(BackupError) {
            return try AgeIdentity.parseFile(text, field: url.path)
        } catch {
            // The parser's reason names the line's problem; it never repeats the key.
            let reason = error.fields.values.sorted().joined(separator: "; ")
            throw .io(path: url.path, reason: "is not an age identity file (\(reason))")
        }
    }

    private static func refusal(_ file: URL) -> BackupError {
        .io(
            path: file.path,
            reason:
                "already exists: a key is never overwritten (bundles encrypted to it open only with it); "
                + "back it up, or move it away first to make a new one")
    }
}

extension BackupError {
    /// The fields of an ``invalidInput(fields:)``, empty for any other error.
    fileprivate var fields: [String: String] {
        if case .invalidInput(let fields) = self { return fields }
        return ["identity": message]
    }
}
