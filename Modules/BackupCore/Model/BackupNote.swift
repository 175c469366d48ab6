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
                $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t"
            })
        else {
            throw .invalidInput(fields: ["note": "must not contain control characters"])
        }
        return note.isEmpty ? nil : note
    }
}
