import Foundation

extension BackupService {
    /// The current settings, saying whether an off-site secret is set and whether the
    /// environment gives the credentials (``OffsiteSettings/secretAccessKeySet``).
    public func settings() throws(BackupError) -> BackupSettings {
        withCredentialState(try catalog.settings())
    }

    /// `settings` with the off-site credentials' state filled in: whether a secret is set (stored,
    /// or from the environment) and whether the environment overrides the stored ones. With
    /// `change`, the state as it will be once that change of the secret is applied; the same for
    /// the Telegram bot token and `tokenChange`.
    public func withCredentialState(
        _ settings: BackupSettings, secretChange change: OffsiteSecret.Change? = nil,
        tokenChange: StoredSecret.Change? = nil
    ) -> BackupSettings {
        var settings = settings
        let environment = offsiteEnvironment
        let stored: Bool =
            switch change {
            case .set: true
            case .remove: false
            case nil: OffsiteSecret(dataDirectory: dataDirectory).isStored
            }
        settings.offsite.secretAccessKeySet = stored || environment.secretAccessKey != nil
        settings.offsite.credentialsFromEnvironment = environment.isSet
        settings.offsite.accessKeyIDFromEnvironment = environment.accessKeyID != nil
        settings.encryption = withKeyState(settings.encryption)
        settings.alerts = withTokenState(settings.alerts, tokenChange: tokenChange)
        return settings
    }

    /// `settings` ready to be saved with `change` of the secret, or every field's problem (the
    /// secret's own and, when the list of directories changes, what the file system says of
    /// them) as ``BackupError/invalidInput(fields:)``.
    func judged(
        _ settings: BackupSettings, secretChange change: OffsiteSecret.Change?, tokenChange: StoredSecret.Change? = nil
    ) throws(BackupError) -> BackupSettings {
        let settings = withCredentialState(settings, secretChange: change, tokenChange: tokenChange)
        var problems = settings.problems.merging(Self.tokenProblems(tokenChange)) { own, _ in own }
        if case .set(let secret) = change, let problem = OffsiteSecret.problem(with: secret) {
            problems["offsite.secret_access_key"] = problem
        }
        // The file system is asked when the list changes: a directory that vanished since it was
        // configured fails the next backup, naming it, but does not block unrelated changes.
        if !settings.directories.isEmpty, settings.directories != (try? catalog.settings().directories) {
            // What the file system says (missing, inside the data directory) is the more useful message.
            problems.merge(DirectoryRules.fileSystemProblems(settings.directories, dataDirectory: dataDirectory)) {
                _, found in found
            }
        }
        problems.merge(repositoryProblems(settings)) { own, _ in own }
        guard problems.isEmpty else { throw .invalidInput(fields: problems) }
        return try settings.validated()
    }
}
