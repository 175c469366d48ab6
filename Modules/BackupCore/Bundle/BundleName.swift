import Foundation

/// Bundle file names: `backup-YYYYMMDD-HHMMSS-<type>-<id>.tar.gz` (or `.tar.zst`: the codec's
/// extension; `.age` after it for a bundle encrypted in the age format), time in UTC. The name
/// says what the bundle was written as; reading it goes by its first bytes
/// (``CodecName/detect(fileAt:)``, the age header).
public enum BundleName {
    public static let sidecarExtension = ".sha256"
    /// What an encrypted bundle's name ends with, after the codec's extension.
    public static let encryptedExtension = ".age"

    public static func make(
        id: String, type: BackupType, createdAt: Date, codec: CodecName = .gzip, encrypted: Bool = false
    ) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: createdAt)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let year = parts.year.map(String.init) ?? "0000"
        let stamp =
            "\(year)\(two(parts.month))\(two(parts.day))-\(two(parts.hour))\(two(parts.minute))\(two(parts.second))"
        return "backup-\(stamp)-\(type.rawValue)-\(id)\(codec.fileExtension)\(encrypted ? encryptedExtension : "")"
    }

    /// Whether `name` is a plain file name of the bundle form (nothing that could leave `backups/`).
    public static func isBundleFilename(_ name: String) -> Bool {
        guard name.hasPrefix("backup-"),
            CodecName.allCases.contains(where: { name.hasSuffix($0.fileExtension) })
                || CodecName.allCases.contains(where: { name.hasSuffix($0.fileExtension + encryptedExtension) }),
            name.utf8.count <= 128
        else { return false }
        return name.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (97...122).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".")
        } && !name.contains("..")
    }

    /// The sidecar's name for a bundle.
    public static func sidecar(for bundle: String) -> String { bundle + sidecarExtension }
}
