import Foundation

extension SettingsPatch {
    /// Sets `directories`, `exclude` or `default_scope` from its `KEY=VALUE` text: lists are
    /// comma-separated (an empty value clears them), an empty or `auto` scope is automatic.
    /// Nil when `field` is none of them; an empty string when it was set; else the problem.
    mutating func setDirectoryField(_ field: String, to value: String) -> String? {
        let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch field {
        case "directories": directories = list
        case "exclude": exclude = list
        case "default_scope":
            let name = value.trimmingCharacters(in: .whitespaces)
            defaultScope = .some(name.isEmpty || name == "auto" ? nil : name)
        default: return nil
        }
        return ""
    }

    /// Replaces the directory fields of `settings` the patch names; a `default_scope` that is no
    /// ``BackupScope`` is refused here.
    func applyDirectoryFields(to settings: inout BackupSettings) throws(BackupError) {
        if let directories { settings.directories = directories }
        if let exclude { settings.exclude = exclude }
        if let defaultScope {
            if let name = defaultScope {
                guard let scope = BackupScope(rawValue: name) else {
                    throw .invalidInput(fields: ["default_scope": "must be database, files, full or null (automatic)"])
                }
                settings.defaultScope = scope
            } else {
                settings.defaultScope = nil
            }
        }
    }
}
