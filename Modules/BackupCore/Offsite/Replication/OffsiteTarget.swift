import Foundation

// PROVISIONAL: the shared design gives `offsiteTarget()` to the offsite-settings branch; until
// it lands there, this is its implementation by the design (the lead keeps one of the two).

/// Everything an upload, a listing or a restore needs to reach the bucket.
public struct OffsiteTarget: Sendable {
    public var location: S3Location
    public var credentials: S3Credentials
    /// The folder inside the bucket, without leading or trailing `/` (empty: the bucket's root).
    public var prefix: String
    /// Remote retention (`offsite.keep_*`).
    public var retention: RetentionPolicy
}

extension BackupService {
    /// The bucket the settings point at with the credentials to use (`AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` override the stored ones); nil while `offsite.enabled` is false.
    /// Enabled but incomplete (no endpoint, bucket, key id or secret) is
    /// ``BackupError/offsite(_:)`` of kind `not_configured`, naming what is missing.
    public func offsiteTarget() throws(BackupError) -> OffsiteTarget? {
        let offsite = try catalog.settings().offsite
        guard offsite.enabled else { return nil }
        let environment = offsiteEnvironment
        let accessKeyID = environment.accessKeyID ?? offsite.accessKeyID
        var secret = environment.secretAccessKey
        if secret == nil { secret = try OffsiteSecret(dataDirectory: dataDirectory).read() }
        var missing: [String] = []
        let endpoint = URL(string: offsite.endpoint).flatMap { $0.host == nil ? nil : $0 }
        if endpoint == nil { missing.append("offsite.endpoint") }
        if offsite.bucket.isEmpty { missing.append("offsite.bucket") }
        if accessKeyID.isEmpty { missing.append("offsite.access_key_id") }
        if secret == nil { missing.append("offsite.secret_access_key") }
        guard let endpoint, let secret, missing.isEmpty else {
            throw .offsite(
                OffsiteFailure(
                    kind: .notConfigured,
                    detail: "off-site copies are on but \(missing.joined(separator: ", ")) is not set"))
        }
        return OffsiteTarget(
            location: S3Location(
                endpoint: endpoint, region: offsite.region, bucket: offsite.bucket, pathStyle: offsite.pathStyle,
                caFile: offsite.caFile),
            credentials: S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secret.revealed),
            prefix: offsite.prefix, retention: offsite.retention)
    }
}
