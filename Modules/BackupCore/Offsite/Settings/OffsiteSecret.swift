import Foundation

/// The off-site secret access key: write-only, kept in `DATA_DIR/offsite-secret` (a
/// ``StoredSecret``), never in the catalog, a response, a log or an error.
public struct OffsiteSecret: Sendable {
    /// A change of the stored secret, from a settings change.
    public typealias Change = StoredSecret.Change

    /// The longest secret accepted, in bytes.
    public static let maximumBytes = 1024

    let stored: StoredSecret

    public init(dataDirectory: DataDirectory) {
        stored = StoredSecret(file: dataDirectory.offsiteSecret)
    }

    /// Whether a secret is stored (the file exists; it is read only when used).
    public var isStored: Bool { stored.isStored }

    /// The stored secret, or nil when none is; a file others may read is refused.
    func read() throws(BackupError) -> SecretText? { try stored.read() }

    /// Applies `change`: writes the secret atomically with mode 0600, or removes the file.
    func apply(_ change: Change) throws(BackupError) { try stored.apply(change) }

    /// Why `secret` cannot be a secret access key (the reason never repeats it).
    public static func problem(with secret: SecretText) -> String? {
        let text = secret.revealed
        guard !text.isEmpty, text.utf8.count <= maximumBytes,
            !text.unicodeScalars.contains(where: OffsiteSettings.isSpaceOrControl)
        else { return "must be 1 to \(maximumBytes) characters without spaces or control characters" }
        return nil
    }
}

/// The credentials the process's environment gives, as every S3 tool reads them:
/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` override the stored key id and secret.
public struct OffsiteEnvironment: Sendable, Equatable {
    public var accessKeyID: String?
    public var secretAccessKey: SecretText?

    /// Reads the two variables from `environment`; an empty value counts as unset.
    public init(_ environment: [String: String]) {
        accessKeyID = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        secretAccessKey = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : SecretText($0) }
    }

    /// This process's environment.
    public static var process: OffsiteEnvironment { OffsiteEnvironment(ProcessInfo.processInfo.environment) }

    /// Whether either variable is set.
    public var isSet: Bool { accessKeyID != nil || secretAccessKey != nil }
}
