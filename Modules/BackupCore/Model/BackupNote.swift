/// Notes on backups: free text for people, bounded and free of control characters.
///
/// The one rule for every face: the CLI's `create --note`, the API's `POST /api/backups` and
/// `PATCH /api/backups/{id}` (through the core calls that store a note), and the page, whose
/// note field mirrors ``maximumLength`` with `maxlength`.
public enum BackupNote {
    /// The longest note, in characters.
    public static let maximumLength = 500

    /// `note` when acceptable, nil for an empty one, else ``BackupError/invalidInput(fields:)``.
    public static func validated(_ note: String?) throws(BackupError) -> String? {
        guard let note else { return nil }
        guard note.count <= maximumLength else {
            throw .invalidInput(fields: ["note": "must be at most \(maximumLength) characters"])
        }
        guard
            !note.unicodeScalars.contains(where: {
                ($0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t")
                    || isBidirectionalControl($0)
            })
        else {
            throw .invalidInput(fields: ["note": "must not contain control characters"])
        }
        return note.isEmpty ? nil : note
    }

    /// The bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder what
    /// follows them on screen, so a note could make a listing lie about what it shows.
    private static func isBidirectionalControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}
