import Foundation

extension OffsiteSettings {
    /// Every field's problem, keyed by its JSON path (`offsite.bucket`); empty when valid.
    ///
    /// Formats are judged whether or not copies are on; while ``enabled`` is true the endpoint,
    /// the bucket and both keys (stored or from the environment) must also be there.
    public var problems: [String: String] {
        var fields: [String: String] = [:]
        if !endpoint.isEmpty, let problem = Self.endpointProblem(endpoint) { fields["offsite.endpoint"] = problem }
        if !bucket.isEmpty, let problem = Self.bucketProblem(bucket) { fields["offsite.bucket"] = problem }
        if let problem = Self.regionProblem(region) { fields["offsite.region"] = problem }
        if let problem = Self.prefixProblem(prefix) { fields["offsite.prefix"] = problem }
        if accessKeyID.utf8.count > 128 || accessKeyID.unicodeScalars.contains(where: Self.isSpaceOrControl) {
            fields["offsite.access_key_id"] = "must be at most 128 characters without spaces or control characters"
        }
        if let caFile, !caFile.isEmpty, !caFile.hasPrefix("/") || caFile.unicodeScalars.contains(where: Self.isControl)
        {
            fields["offsite.ca_file"] = "must be an absolute path to a PEM file"
        }
        let counts: [(String, Int)] = [
            ("keep_last", retention.keepLast), ("keep_days", retention.keepDays), ("keep_daily", retention.keepDaily),
            ("keep_weekly", retention.keepWeekly), ("keep_monthly", retention.keepMonthly),
        ]
        for (name, value) in counts where !(0...BackupSettings.maximumCount).contains(value) {
            fields["offsite.\(name)"] = "must be between 0 and \(BackupSettings.maximumCount)"
        }
        guard enabled else { return fields }
        if retention.keepLast < 1, fields["offsite.keep_last"] == nil {
            fields["offsite.keep_last"] = "must be at least 1 while off-site copies are on"
        }
        let required = "is required while offsite.enabled is true"
        if endpoint.isEmpty { fields["offsite.endpoint"] = required }
        if bucket.isEmpty { fields["offsite.bucket"] = required }
        if accessKeyID.isEmpty, !accessKeyIDFromEnvironment {
            fields["offsite.access_key_id"] = required + " (or set AWS_ACCESS_KEY_ID)"
        }
        if !secretAccessKeySet {
            fields["offsite.secret_access_key"] = required + " (or set AWS_SECRET_ACCESS_KEY)"
        }
        return fields
    }

    /// The settings as stored: the prefix without trailing `/`, an empty CA file as none.
    var normalized: OffsiteSettings {
        var settings = self
        while settings.prefix.hasSuffix("/") { settings.prefix.removeLast() }
        if settings.caFile?.isEmpty == true { settings.caFile = nil }
        return settings
    }

    /// Why `text` is no endpoint: an http(s) URL with a host, and no credentials, path or query.
    static func endpointProblem(_ text: String) -> String? {
        let expected = "must be an http:// or https:// URL with a host and nothing after it"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else { return expected }
        if components.user != nil || components.password != nil { return "must not hold credentials" }
        if !["", "/"].contains(components.path) || components.query != nil || components.fragment != nil {
            return expected + " (no path or query: the bucket and prefix are separate settings)"
        }
        return nil
    }

    /// Why `name` breaks S3's bucket naming rules.
    static func bucketProblem(_ name: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        let alphanumeric = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        guard (3...63).contains(name.count), name.allSatisfy(allowed.contains),
            let first = name.first, let last = name.last, alphanumeric.contains(first), alphanumeric.contains(last),
            !name.contains(".."), !name.contains(".-"), !name.contains("-.")
        else {
            return
                "must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        }
        let parts = name.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "must not look like an IP address" }
        return nil
    }

    /// Why `region` is no region name.
    static func regionProblem(_ region: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard (1...64).contains(region.count), region.allSatisfy(allowed.contains) else {
            return "must be a region name: lowercase letters, digits and hyphens (us-east-1, auto)"
        }
        return nil
    }

    /// Why `prefix` (trailing `/` aside) cannot be a folder of keys.
    static func prefixProblem(_ prefix: String) -> String? {
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix.hasPrefix("/") { return "must not start with /" }
        if prefix.utf8.count > maximumPrefixBytes { return "must be at most \(maximumPrefixBytes) bytes" }
        if prefix.unicodeScalars.contains(where: isControl) { return "must not contain control characters" }
        if !prefix.isEmpty,
            prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                $0.isEmpty || $0 == "." || $0 == ".."
            })
        {
            return "must not contain empty, . or .. segments"
        }
        return nil
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    static func isSpaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        isControl(scalar) || scalar.properties.isWhitespace
    }
}
