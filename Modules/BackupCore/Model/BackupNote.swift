/// Notes on backups: free text for people, bounded and free of control characters.
public enum BackupNote {
    public static let maximumLength = 1000

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
