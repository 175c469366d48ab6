import Crypto
import Foundation

/// The bearer token every API route needs.
public struct APIToken: Sendable {
    /// Where the token came from, for the start-up log (never the token itself).
    public enum Source: Sendable, Equatable {
        case environment
        case file(String)
        case generated(String)
    }

    private let value: String
    public let source: Source

    /// Resolves the token: the environment's value first, then `tokenFile`, then
    /// `DATA_DIR/api-token`, generated (mode 0600) when it does not exist.
    /// A token file readable by other users is refused.
    public static func resolve(
        environmentValue: String?, tokenFile: String?, dataDirectory: DataDirectory
    ) throws(BackupError) -> APIToken {
        if let environmentValue, !environmentValue.isEmpty {
            guard environmentValue.utf8.count >= 16 else {
                throw .invalidInput(fields: ["BACKUP_API_TOKEN": "must be at least 16 characters"])
            }
            return APIToken(value: environmentValue, source: .environment)
        }
        if let tokenFile {
            return APIToken(value: try SecretFile.read(URL(fileURLWithPath: tokenFile)), source: .file(tokenFile))
        }
        try dataDirectory.prepare()
        let (secret, created) = try SecretFile.readOrCreate(dataDirectory.apiToken)
        return APIToken(
            value: secret,
            source: created ? .generated(dataDirectory.apiToken.path) : .file(dataDirectory.apiToken.path))
    }

    /// A token given directly (tests).
    public init(value: String) {
        self.init(value: value, source: .environment)
    }

    private init(value: String, source: Source) {
        self.value = value
        self.source = source
    }

    /// The token's SHA-256 in hex: binds session tickets to this token, so replacing the token
    /// ends every session. Not a secret (the token is long and random).
    public var fingerprint: String {
        SHA256.hash(data: Array(value.utf8)).hexString
    }

    /// Whether `candidate` is the token, compared in constant time.
    public func matches(_ candidate: String) -> Bool {
        constantTimeEquals(candidate, value)
    }
}
