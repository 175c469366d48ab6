import BackupCore

/// A JSON request body that names its fields: any other field is refused with 422, naming it
/// as `"unknown field"` or, for a field only the server sets, `"read-only field"`, rather than
/// being ignored (a misspelt `intervall_hours` must not answer 200 and change nothing).
protocol StrictBody: Decodable {
    /// The fields a client may send, as JSON paths (`retention.keep_last`); the objects on the
    /// way (`retention`) are checked field by field.
    static var writableFields: [String] { get }
    /// Fields of the resource that only the server sets (`size_bytes`).
    static var readOnlyFields: [String] { get }
}

extension StrictBody {
    static var readOnlyFields: [String] { [] }

    /// Each field of `object` (a decoded JSON object) that may not be sent, with the reason.
    static func fieldProblems(in object: [String: Any], prefix: String = "") -> [String: String] {
        var problems: [String: String] = [:]
        for (key, value) in object {
            let path = prefix + key
            if writableFields.contains(path) { continue }
            if writableFields.contains(where: { $0.hasPrefix(path + ".") }) {
                // An object of fields; a value of another type is the decoder's type error.
                if let nested = value as? [String: Any] {
                    problems.merge(fieldProblems(in: nested, prefix: path + ".")) { first, _ in first }
                }
                continue
            }
            problems[path] = readOnlyFields.contains(path) ? "read-only field" : "unknown field"
        }
        return problems
    }
}

extension SettingsPatch: StrictBody {
    /// The read-only flags too: a GET's answer may be sent back as it is (the core refuses a
    /// flag that differs from the state).
    static var writableFields: [String] { BackupSettings.fieldNames + BackupSettings.readOnlyFieldNames }
}
