import Foundation

/// The layout of a data directory (see the spec's "Data directory").
///
/// Every path the core reads or writes is derived here, so nothing escapes the directory.
public struct DataDirectory: Sendable, Equatable {
    /// The data directory itself, absolute.
    public let root: URL
    /// The protected SQLite database's path. For a PostgreSQL ``location`` it is
    /// `root/app.sqlite` and means nothing: whatever touches the database switches on ``location``.
    public let database: URL
    /// Where the protected database lives: a SQLite file or a PostgreSQL database.
    public let location: DatabaseLocation

    /// - Parameters:
    ///   - root: the data directory (`--data-dir`).
    ///   - database: the protected SQLite database (a path); `root/app.sqlite` when nil.
    public init(root: String, database: String? = nil) {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        self.root = URL(fileURLWithPath: root, isDirectory: true, relativeTo: cwd).standardizedFileURL
        if let database {
            self.database = URL(fileURLWithPath: database, relativeTo: cwd).standardizedFileURL
        } else {
            self.database = self.root.appendingPathComponent("app.sqlite")
        }
        location = .sqlite(self.database)
    }

    /// - Parameters:
    ///   - root: the data directory (`--data-dir`).
    ///   - parsingDatabase: `--database` as given: a SQLite path or a `postgresql://` URL
    ///     (see ``DatabaseLocation/parse(_:cwd:)``); `root/app.sqlite` when nil.
    public init(root: String, parsingDatabase text: String?) throws(BackupError) {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        self.root = URL(fileURLWithPath: root, isDirectory: true, relativeTo: cwd).standardizedFileURL
        let location = try text.map { (text) throws(BackupError) in try DatabaseLocation.parse(text, cwd: cwd) }
        switch location {
        case .sqlite(let url):
            database = url
        case .postgres, nil:
            database = self.root.appendingPathComponent("app.sqlite")
        }
        self.location = location ?? .sqlite(database)
    }

    public var backups: URL { root.appendingPathComponent("backups", isDirectory: true) }
    public var temporary: URL { backups.appendingPathComponent(".tmp", isDirectory: true) }
    public var quarantine: URL { backups.appendingPathComponent("quarantine", isDirectory: true) }
    public var catalog: URL { backups.appendingPathComponent("catalog.sqlite") }
    /// Held (flock) by whichever process runs a backup, verification or restore.
    public var jobLock: URL { backups.appendingPathComponent(".job.lock") }
    /// Held (flock) by a running backup-api for its whole life.
    public var serverLock: URL { backups.appendingPathComponent(".server.lock") }
    public var apiToken: URL { root.appendingPathComponent("api-token") }
    /// The off-site secret access key (mode 0600; see ``OffsiteSecret``).
    public var offsiteSecret: URL { root.appendingPathComponent("offsite-secret") }
    /// The Telegram bot token of the alerts (mode 0600; see ``TelegramToken``).
    public var telegramToken: URL { root.appendingPathComponent("telegram-token") }
    /// The age identity bundles are encrypted to (mode 0600; see ``BackupKey``).
    public var backupKey: URL { root.appendingPathComponent("backup-key") }

    /// Fails with ``BackupError/dataDirectoryMissing(path:)`` unless the data directory exists:
    /// commands that only read, or that work on existing backups, never start a new one.
    public func requireExisting() throws(BackupError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw .dataDirectoryMissing(path: root.path) }
    }

    /// Creates the directories the core writes to.
    public func prepare() throws(BackupError) {
        for directory in [root, backups, temporary, quarantine] {
            do {
                try FileManager.default.createDirectory(
                    at: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw .io(path: directory.path, reason: "cannot create directory: \(error.localizedDescription)")
            }
        }
    }
}
