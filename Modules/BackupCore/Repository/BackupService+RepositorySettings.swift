import Foundation

extension BackupService {
    /// What the incremental repository says of `settings`: a repository is encrypted or not for
    /// its whole life, so switching encryption (or switching to `incremental` with encryption not
    /// as the repository was made) is refused when the settings are saved, naming the field,
    /// instead of failing the next backup. Asked only when `format` or `encryption.enabled`
    /// changes, so a repository damaged meanwhile does not block unrelated changes. Empty when
    /// nothing is wrong, when the format is `bundle`, or when there is no repository yet.
    func repositoryProblems(_ settings: BackupSettings) -> [String: String] {
        guard settings.format == .incremental else { return [:] }
        if let stored = try? catalog.settings(), stored.format == settings.format,
            stored.encryption.enabled == settings.encryption.enabled
        {
            return [:]
        }
        do throws(BackupError) {
            _ = try RepositoryConfig.existing(at: dataDirectory.repository, encrypted: settings.encryption.enabled)
            return [:]
        } catch {
            if case .invalidInput(let fields) = error { return fields }
            return ["format": error.message]
        }
    }
}
