import Foundation

extension BackupService {
    /// Where off-site copies go now, or nil while `offsite.enabled` is false.
    ///
    /// The key id and the secret come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` when
    /// the environment sets them, else from the settings and `DATA_DIR/offsite-secret`. Fails
    /// with ``BackupError/offsite(_:)`` (`not_configured`) when copies are on but something
    /// they need is missing.
    public func offsiteTarget() throws(BackupError) -> OffsiteTarget? {
        let settings = try catalog.settings().offsite
        guard settings.enabled else { return nil }
        return try target(settings, secretChange: nil)
    }

    /// Tests the connection: a small object put, read back and deleted under the prefix
    /// (``S3Client/probe(prefix:)``). `patch` (the page's unsaved form, a PUT's `offsite` fields)
    /// is tried on top of the saved settings and stored nowhere; its problems are
    /// ``BackupError/invalidInput(fields:)`` as a PUT names them.
    public func testOffsiteConnection(_ patch: SettingsPatch? = nil) async throws(BackupError) {
        var settings = try self.settings()
        if let patch { settings = try patch.applied(to: settings) }
        // Judged as if copies were on: the endpoint, bucket and keys must be there to connect.
        settings.offsite.enabled = true
        let offsite = try judgedOffsite(settings, secretChange: patch?.secretChange)
        let target = try target(offsite, secretChange: patch?.secretChange)
        let client = try S3Client(location: target.location, credentials: target.credentials)
        do {
            try await client.probe(prefix: target.prefix)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// The off-site fields of `settings` judged with `change` of the secret (other fields'
    /// problems are left to a save).
    private func judgedOffsite(
        _ settings: BackupSettings, secretChange change: OffsiteSecret.Change?
    ) throws(BackupError) -> OffsiteSettings {
        let settings = withCredentialState(settings, secretChange: change)
        var problems = settings.offsite.problems
        if case .set(let secret) = change, let problem = OffsiteSecret.problem(with: secret) {
            problems["offsite.secret_access_key"] = problem
        }
        guard problems.isEmpty else { throw .invalidInput(fields: problems) }
        return settings.offsite.normalized
    }

    /// The target `settings` describe, with the credentials the environment, `change` or the
    /// secret file give.
    private func target(
        _ settings: OffsiteSettings, secretChange change: OffsiteSecret.Change?
    ) throws(BackupError) -> OffsiteTarget {
        let environment = offsiteEnvironment
        let secret: SecretText? =
            switch (environment.secretAccessKey, change) {
            case (let fromEnvironment?, _): fromEnvironment
            case (nil, .set(let typed)?): typed
            case (nil, .remove?): nil
            case (nil, nil): try OffsiteSecret(dataDirectory: dataDirectory).read()
            }
        let accessKeyID = environment.accessKeyID ?? settings.accessKeyID
        func missing(_ what: String) -> BackupError {
            .offsite(OffsiteFailure(kind: .notConfigured, detail: "\(what) is not set"))
        }
        guard !settings.endpoint.isEmpty, let endpoint = URL(string: settings.endpoint) else {
            throw missing("offsite.endpoint")
        }
        guard !settings.bucket.isEmpty else { throw missing("offsite.bucket") }
        guard !accessKeyID.isEmpty else { throw missing("offsite.access_key_id (or AWS_ACCESS_KEY_ID)") }
        guard let secret else { throw missing("offsite.secret_access_key (or AWS_SECRET_ACCESS_KEY)") }
        return OffsiteTarget(
            location: S3Location(
                endpoint: endpoint, region: settings.region, bucket: settings.bucket, pathStyle: settings.pathStyle,
                caFile: settings.caFile),
            credentials: S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secret.revealed),
            prefix: settings.prefix, retention: settings.retention)
    }
}
