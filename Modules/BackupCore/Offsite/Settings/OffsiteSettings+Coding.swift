import Foundation

/// The JSON form, `offsite` inside the settings: remote retention's `keep_*` sit flat beside
/// the bucket's fields, and the two read-only flags say where the credentials come from.
extension OffsiteSettings: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, endpoint, region, bucket, prefix
        case pathStyle = "path_style"
        case accessKeyID = "access_key_id"
        case caFile = "ca_file"
        case keepLast = "keep_last"
        case keepDays = "keep_days"
        case keepDaily = "keep_daily"
        case keepWeekly = "keep_weekly"
        case keepMonthly = "keep_monthly"
        case secretAccessKeySet = "secret_access_key_set"
        case credentialsFromEnvironment = "credentials_from_environment"
    }

    /// Reads the settings as the faces print them; a missing field takes its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = OffsiteSettings()
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        self.init(
            enabled: try value(.enabled, defaults.enabled), endpoint: try value(.endpoint, defaults.endpoint),
            region: try value(.region, defaults.region), bucket: try value(.bucket, defaults.bucket),
            prefix: try value(.prefix, defaults.prefix), pathStyle: try value(.pathStyle, defaults.pathStyle),
            accessKeyID: try value(.accessKeyID, defaults.accessKeyID),
            caFile: try container.decodeIfPresent(String.self, forKey: .caFile),
            retention: RetentionPolicy(
                keepLast: try value(.keepLast, defaults.retention.keepLast),
                keepDays: try value(.keepDays, defaults.retention.keepDays),
                keepDaily: try value(.keepDaily, defaults.retention.keepDaily),
                keepWeekly: try value(.keepWeekly, defaults.retention.keepWeekly),
                keepMonthly: try value(.keepMonthly, defaults.retention.keepMonthly),
                includeManual: defaults.retention.includeManual),
            secretAccessKeySet: try value(.secretAccessKeySet, false),
            credentialsFromEnvironment: try value(.credentialsFromEnvironment, false))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(endpoint, forKey: .endpoint)
        try container.encode(region, forKey: .region)
        try container.encode(bucket, forKey: .bucket)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(pathStyle, forKey: .pathStyle)
        try container.encode(accessKeyID, forKey: .accessKeyID)
        try container.encode(caFile, forKey: .caFile)
        try container.encode(retention.keepLast, forKey: .keepLast)
        try container.encode(retention.keepDays, forKey: .keepDays)
        try container.encode(retention.keepDaily, forKey: .keepDaily)
        try container.encode(retention.keepWeekly, forKey: .keepWeekly)
        try container.encode(retention.keepMonthly, forKey: .keepMonthly)
        try container.encode(secretAccessKeySet, forKey: .secretAccessKeySet)
        try container.encode(credentialsFromEnvironment, forKey: .credentialsFromEnvironment)
    }
}
