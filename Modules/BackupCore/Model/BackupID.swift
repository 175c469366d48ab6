import Foundation

/// Backup ids: 16 lowercase hexadecimal characters, random.
///
/// Ids reach file names, URLs and SQL, so anything else is refused before it is used.
public enum BackupID {
    /// A new random id.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether `text` has the form of an id.
    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The fewest leading characters of an id the CLI accepts in its place, as restic and git do.
    public static let minimumPrefixLength = 4

    /// `text` lower-cased when it can begin an id: 4 to 16 hexadecimal characters in any case.
    /// Else ``BackupError/idPrefixTooShort(_:)`` for a short one, ``BackupError/invalidID(_:)``
    /// for anything else.
    public static func validatedPrefix(_ text: String) throws(BackupError) -> String {
        let lowered = text.lowercased()
        guard (1...16).contains(lowered.utf8.count),
            lowered.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { throw .invalidID(text) }
        guard lowered.utf8.count >= minimumPrefixLength else { throw .idPrefixTooShort(text) }
        return lowered
    }

    /// `text` itself when it is an id, else ``BackupError/invalidID(_:)``.
    public static func validated(_ text: String) throws(BackupError) -> String {
        guard isValid(text) else { throw .invalidID(text) }
        return text
    }
}
