import Foundation

extension SettingsPatch {
    /// A partial change of ``OffsiteSettings`` (`offsite` in a PUT, `offsite.KEY=VALUE` words).
    /// `secret_access_key` is taken here and only here: an empty or `null` one removes it.
    public struct Offsite: Decodable, Sendable {
        var enabled: Bool?
        var endpoint: String?
        var region: String?
        var bucket: String?
        var prefix: String?
        var pathStyle: Bool?
        var accessKeyID: String?
        var caFile: String??
        var keepLast: Int?
        var keepDays: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        /// The change of the stored secret, if any.
        var secret: OffsiteSecret.Change?
        /// The read-only flags as sent back from a GET: accepted when they repeat the current
        /// state (so a GET's answer can be PUT as it is), refused as read-only otherwise.
        var secretAccessKeySet: Bool?
        var credentialsFromEnvironment: Bool?

        init() {}

        enum CodingKeys: String, CodingKey {
            case enabled, endpoint, region, bucket, prefix
            case pathStyle = "path_style"
            case accessKeyID = "access_key_id"
            case secretAccessKey = "secret_access_key"
            case caFile = "ca_file"
            case keepLast = "keep_last"
            case keepDays = "keep_days"
            case keepDaily = "keep_daily"
            case keepWeekly = "keep_weekly"
            case keepMonthly = "keep_monthly"
            case secretAccessKeySet = "secret_access_key_set"
            case credentialsFromEnvironment = "credentials_from_environment"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
            endpoint = try container.decodeIfPresent(String.self, forKey: .endpoint)
            region = try container.decodeIfPresent(String.self, forKey: .region)
            bucket = try container.decodeIfPresent(String.self, forKey: .bucket)
            prefix = try container.decodeIfPresent(String.self, forKey: .prefix)
            pathStyle = try container.decodeIfPresent(Bool.self, forKey: .pathStyle)
            accessKeyID = try container.decodeIfPresent(String.self, forKey: .accessKeyID)
            if container.contains(.caFile) {
                caFile = .some(try container.decodeIfPresent(String.self, forKey: .caFile))
            }
            keepLast = try container.decodeIfPresent(Int.self, forKey: .keepLast)
            keepDays = try container.decodeIfPresent(Int.self, forKey: .keepDays)
            keepDaily = try container.decodeIfPresent(Int.self, forKey: .keepDaily)
            keepWeekly = try container.decodeIfPresent(Int.self, forKey: .keepWeekly)
            keepMonthly = try container.decodeIfPresent(Int.self, forKey: .keepMonthly)
            secretAccessKeySet = try container.decodeIfPresent(Bool.self, forKey: .secretAccessKeySet)
            credentialsFromEnvironment = try container.decodeIfPresent(Bool.self, forKey: .credentialsFromEnvironment)
            if container.contains(.secretAccessKey) {
                let secret = try container.decodeIfPresent(String.self, forKey: .secretAccessKey) ?? ""
                self.secret = secret.isEmpty ? .remove : .set(SecretText(secret))
            }
        }

        /// Sets `field` (below `offsite.`) from its text; the problem when the text is not of
        /// the field's type. `number` and `flag` are the text read as an integer and a boolean.
        mutating func set(_ field: String, to value: String, number: Int?, flag: Bool?) -> String? {
            switch field {
            case "enabled", "path_style":
                guard let flag else { return "must be true or false" }
                if field == "enabled" { enabled = flag } else { pathStyle = flag }
            case "keep_last", "keep_days", "keep_daily", "keep_weekly", "keep_monthly":
                guard let number else { return "must be an integer" }
                switch field {
                case "keep_last": keepLast = number
                case "keep_days": keepDays = number
                case "keep_daily": keepDaily = number
                case "keep_weekly": keepWeekly = number
                default: keepMonthly = number
                }
            case "endpoint": endpoint = value
            case "region": region = value
            case "bucket": bucket = value
            case "prefix": prefix = value
            case "access_key_id": accessKeyID = value
            case "ca_file": caFile = .some(value.isEmpty ? nil : value)
            case "secret_access_key": secret = value.isEmpty ? .remove : .set(SecretText(value))
            default: return "is not a setting"
            }
            return nil
        }

        /// `settings` (with their credentials' state, ``BackupService/settings()``) with this
        /// patch's fields replaced; a read-only flag that differs from that state is refused.
        func applied(to settings: OffsiteSettings) throws(BackupError) -> OffsiteSettings {
            var problems: [String: String] = [:]
            if let secretAccessKeySet, secretAccessKeySet != settings.secretAccessKeySet {
                problems["offsite.secret_access_key_set"] = "read-only field"
            }
            if let credentialsFromEnvironment, credentialsFromEnvironment != settings.credentialsFromEnvironment {
                problems["offsite.credentials_from_environment"] = "read-only field"
            }
            guard problems.isEmpty else { throw .invalidInput(fields: problems) }
            var settings = settings
            if let enabled { settings.enabled = enabled }
            if let endpoint { settings.endpoint = endpoint }
            if let region { settings.region = region }
            if let bucket { settings.bucket = bucket }
            if let prefix { settings.prefix = prefix }
            if let pathStyle { settings.pathStyle = pathStyle }
            if let accessKeyID { settings.accessKeyID = accessKeyID }
            if let caFile { settings.caFile = caFile }
            if let keepLast { settings.retention.keepLast = keepLast }
            if let keepDays { settings.retention.keepDays = keepDays }
            if let keepDaily { settings.retention.keepDaily = keepDaily }
            if let keepWeekly { settings.retention.keepWeekly = keepWeekly }
            if let keepMonthly { settings.retention.keepMonthly = keepMonthly }
            return settings
        }
    }

    /// The change of the off-site secret this patch carries (`offsite.secret_access_key`), to
    /// pass to ``BackupService/saveSettings(_:secretChange:tokenChange:)``; nil leaves it as it is.
    public var secretChange: OffsiteSecret.Change? { offsite?.secret }
}
