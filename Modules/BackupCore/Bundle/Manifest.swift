import Foundation

/// `manifest.json`: what a bundle holds and how to check it.
public struct Manifest: Codable, Equatable, Sendable {
    /// One file in the bundle.
    public struct Entry: Codable, Equatable, Sendable {
        public var path: String
        public var size: Int64
        public var sha256: String
    }

    /// The bundle formats this build can read.
    public static let supportedFormatVersions = 1...1
    public static let currentFormatVersion = 1
    public static let entryName = "manifest.json"
    public static let databaseEntryName = "database.sqlite"

    public var formatVersion: Int
    public var id: String
    public var type: BackupType
    public var createdAt: Date
    public var sourcePath: String
    public var sqliteVersion: String
    public var pageSize: Int
    public var pageCount: Int
    public var userVersion: Int
    public var toolVersion: String
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case id, type
        case createdAt = "created_at"
        case sourcePath = "source_path"
        case sqliteVersion = "sqlite_version"
        case pageSize = "page_size"
        case pageCount = "page_count"
        case userVersion = "user_version"
        case toolVersion = "tool_version"
        case entries
    }

    func encoded() throws(BackupError) -> [UInt8] {
        do {
            return Array(try JSONEncoder.backupManager(pretty: true).encode(self)) + [0x0a]
        } catch {
            throw .io(path: Self.entryName, reason: "cannot encode: \(error)")
        }
    }

    static func decode(_ bytes: [UInt8]) throws(BackupError) -> Manifest {
        do {
            return try JSONDecoder.backupManager().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw .verificationFailed(reason: "manifest.json cannot be read: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty
                ? "not valid JSON" : "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}
