import BackupCore
import Foundation

/// A fresh directory under the system's temporary folder, removed when released.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init(_ label: String = "test") {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("backup-manager-\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    /// A data directory rooted here.
    public var dataDirectory: DataDirectory { DataDirectory(root: url.path) }

    /// Files under `backups/` (not recursive), excluding the catalog and lock.
    public func backupFiles() -> [String] {
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent("backups").path)) ?? []
        return names.filter { $0.hasPrefix("backup-") }.sorted()
    }

    /// Files under `backups/.tmp/`.
    public func temporaryFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent("backups/.tmp").path)) ?? []
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
