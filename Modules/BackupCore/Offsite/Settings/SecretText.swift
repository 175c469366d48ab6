/// A secret in memory (the off-site secret access key on its way in): its text never shows in
/// a description, a debug print, a `dump` or string interpolation, so it cannot reach a log by
/// accident. Only ``revealed`` gives it, for the file and the request signer.
public struct SecretText: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret itself.
    public let revealed: String

    public init(_ revealed: String) {
        self.revealed = revealed
    }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
