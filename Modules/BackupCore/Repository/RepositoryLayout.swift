import Foundation

/// Where an incremental repository keeps its files, relative to its root (`backups/repository/`
/// locally, `<prefix>/repository/` off-site). The one place that names them.
///
/// - `config.json`: ``RepositoryConfig``.
/// - `keys/repository-key.age`: the repository's own X25519 identity, age-encrypted to the
///   operator's recipients or passphrase (only when encryption is on).
/// - `packs/<aa>/<sha256>.pack`: immutable pack files, named by the SHA-256 of their bytes as
///   stored (`aa` its first two hex digits); `.pack.age` when encrypted.
/// - `index/<backup-id>.json.zst`: one ``RepositoryIndex`` per backup; `.json.zst.age` when
///   encrypted.
enum RepositoryLayout {
    static let directoryName = "repository"
    /// The `store` of an incremental backup's record (its `filename` is its index's).
    static let storeName = "repository"
    static let config = "config.json"
    static let keyFile = "keys/repository-key.age"
    static let packsFolder = "packs"
    static let indexFolder = "index"

    /// The relative path of pack `name` (its SHA-256, hex).
    static func pack(_ name: String, encrypted: Bool) -> String {
        "\(packsFolder)/\(name.prefix(2))/\(name).pack\(encrypted ? ".age" : "")"
    }

    /// The relative path of backup `id`'s index.
    static func index(_ id: String, encrypted: Bool) -> String {
        "\(indexFolder)/\(indexFilename(id, encrypted: encrypted))"
    }

    /// The file name of backup `id`'s index (what the backup's record keeps as its `filename`).
    static func indexFilename(_ id: String, encrypted: Bool) -> String {
        "\(id).json.zst\(encrypted ? ".age" : "")"
    }

    /// The backup id an index file name stands for; nil for any other name.
    static func backupID(ofIndex filename: String) -> String? {
        for suffix in [".json.zst.age", ".json.zst"] where filename.hasSuffix(suffix) {
            let id = String(filename.dropLast(suffix.count))
            return BackupID.isValid(id) ? id : nil
        }
        return nil
    }

    /// Whether `name` is a pack's name: 64 lowercase hex digits.
    static func isPackName(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension DataDirectory {
    /// The local incremental repository (see ``RepositoryLayout``).
    var repository: URL { backups.appendingPathComponent(RepositoryLayout.directoryName, isDirectory: true) }
}
