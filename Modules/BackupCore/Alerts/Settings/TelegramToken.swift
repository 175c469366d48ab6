import Foundation

/// The Telegram bot token: write-only, kept in `DATA_DIR/telegram-token` (a ``StoredSecret``),
/// never in the catalog, a response, a log or an error. `BACKUP_TELEGRAM_BOT_TOKEN` in the
/// environment overrides the stored one.
public struct TelegramToken: Sendable {
    /// The environment variable that gives the token.
    public static let environmentVariable = "BACKUP_TELEGRAM_BOT_TOKEN"
    /// The longest token accepted, in bytes.
    public static let maximumBytes = 256

    let stored: StoredSecret
    /// The token the environment gives, if any.
    let fromEnvironment: SecretText?

    /// - Parameter environment: the process's by default; tests pass their own.
    public init(
        dataDirectory: DataDirectory, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        stored = StoredSecret(file: dataDirectory.telegramToken)
        fromEnvironment = environment[Self.environmentVariable].flatMap { $0.isEmpty ? nil : SecretText($0) }
    }

    /// Whether a token is set, stored or from the environment.
    public var isSet: Bool { fromEnvironment != nil || stored.isStored }

    /// The token to use: the environment's, else the stored one; nil when none is.
    func read() throws(BackupError) -> SecretText? {
        if let fromEnvironment { return fromEnvironment }
        return try stored.read()
    }

    /// Applies `change` to the stored token.
    func apply(_ change: StoredSecret.Change) throws(BackupError) { try stored.apply(change) }

    /// Why `token` cannot be a bot token (`123456789:AA…`); the reason never repeats it.
    public static func problem(with token: SecretText) -> String? {
        let text = token.revealed
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard text.utf8.count <= maximumBytes, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return "must be a bot token as BotFather gives it: digits, a colon, then letters, digits, _ or -" }
        return nil
    }
}
