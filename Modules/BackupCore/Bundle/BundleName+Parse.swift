import Foundation

extension BundleName {
    /// What a bundle's file name says: when it was made (UTC, to the second), its type, its id,
    /// the codec it was written with and whether it is encrypted (`.age`).
    public struct Parts: Sendable, Equatable {
        public var createdAt: Date
        public var type: BackupType
        public var id: String
        public var codec: CodecName
        public var encrypted: Bool = false
    }

    /// Reads `backup-YYYYMMDD-HHMMSS-<type>-<id><extension>[.age]`; nil for any other name (a
    /// foreign object in a shared bucket, a stray file).
    public static func parse(_ name: String) -> Parts? {
        let encrypted = name.hasSuffix(encryptedExtension)
        let plainName = encrypted ? String(name.dropLast(encryptedExtension.count)) : name
        guard isBundleFilename(name),
            let codec = CodecName.allCases.first(where: { plainName.hasSuffix($0.fileExtension) })
        else { return nil }
        let stem = plainName.dropFirst("backup-".count).dropLast(codec.fileExtension.count)
        // YYYYMMDD-HHMMSS-<type>-<id>; the type may hold a dash (`pre-restore`).
        guard stem.count > 16 + 16 + 2 else { return nil }
        let stamp = stem.prefix(15)
        let id = String(stem.suffix(16))
        let typeText = stem.dropFirst(16).dropLast(17)
        guard stem.dropFirst(15).first == "-", stem.dropLast(16).last == "-", BackupID.isValid(id),
            let type = BackupType(rawValue: String(typeText))
        else { return nil }
        let digits = Array(stamp.replacingOccurrences(of: "-", with: ""))
        guard digits.count == 14, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        func number(_ range: Range<Int>) -> Int { Int(String(digits[range])) ?? -1 }
        var parts = DateComponents()
        (parts.year, parts.month, parts.day) = (number(0..<4), number(4..<6), number(6..<8))
        (parts.hour, parts.minute, parts.second) = (number(8..<10), number(10..<12), number(12..<14))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard parts.isValidDate(in: calendar), let date = calendar.date(from: parts) else { return nil }
        return Parts(createdAt: date, type: type, id: id, codec: codec, encrypted: encrypted)
    }
}
