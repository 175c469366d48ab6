import Foundation

/// `DATA_DIR/restore-journal.json`: what a restore of directories has done so far, written
/// durably before each step, so that the next process to take the job lock can finish or roll
/// back a restore that died (see ``DirectorySwap/recover(in:)``).
struct RestoreJournal: Codable, Equatable, Sendable {
    /// How far the restore got. Before ``databaseReplaced`` a crash rolls back; from it on the
    /// restore is finished.
    enum Phase: String, Codable, Sendable {
        /// Extracting into the staging trees; nothing live touched yet.
        case extracting
        /// Every staging tree extracted, checked and flushed; nothing live touched yet.
        case staged
        /// Renaming: each directory may be old, new or moved aside.
        case swapping
        /// Every directory swapped and the database (if restored) replaced: the restore holds.
        case databaseReplaced = "database-replaced"
        /// A failure or recovery put every directory back; only staging trees are left to remove.
        case rolledBack = "rolled-back"
    }

    /// One directory restored: where it lives, where its new tree is extracted, where its old
    /// tree goes.
    struct Directory: Codable, Equatable, Sendable {
        var target: String
        var staging: String
        var old: String
        /// Whether the target existed when the swap began (set in ``Phase/swapping``).
        var existed: Bool?
    }

    var backupID: String
    var phase: Phase
    var keepOld: Bool
    var directories: [Directory]
    /// The live SQLite database's schema cookie (`PRAGMA schema_version`) read under the
    /// restore's write lock, in the commit record that ``DirectorySwap/prepareCommit(databaseSchemaVersion:)``
    /// stages; nil when no SQLite database is replaced. The replacement's commit raises the cookie
    /// (SQLite's backup API writes the old value plus one), so a recovery that finds the commit
    /// record staged but not yet in force can tell whether the database committed.
    var databaseSchemaVersion: Int?

    enum CodingKeys: String, CodingKey {
        case backupID = "backup_id"
        case phase
        case keepOld = "keep_old"
        case directories
        case databaseSchemaVersion = "database_schema_version"
    }
}

extension DataDirectory {
    /// The journal of a restore of directories in progress (see ``RestoreJournal``).
    var restoreJournal: URL { root.appendingPathComponent("restore-journal.json") }

    /// The journal left by a restore, if any.
    func readRestoreJournal() throws(BackupError) -> RestoreJournal? {
        guard FileOps.exists(restoreJournal) else { return nil }
        do {
            let data = try Data(contentsOf: restoreJournal)
            return try JSONDecoder.backupManager().decode(RestoreJournal.self, from: data)
        } catch {
            throw .io(path: restoreJournal.path, reason: "the restore journal cannot be read: \(error)")
        }
    }

    /// Writes the journal durably (temporary file, fsync, rename, directory fsync).
    func writeRestoreJournal(_ journal: RestoreJournal) throws(BackupError) {
        try stageRestoreJournal(journal)
        try placeRestoreJournal()
    }

    /// The next journal, written and fsynced beside the current one but not yet in force:
    /// ``placeRestoreJournal()`` then puts it in place with one rename.
    func stageRestoreJournal(_ journal: RestoreJournal) throws(BackupError) {
        let data: Data
        do { data = try JSONEncoder.backupManager(pretty: true).encode(journal) } catch {
            throw .io(path: restoreJournal.path, reason: "cannot encode the restore journal")
        }
        FileOps.removeIfPresent(stagedRestoreJournal)
        let file = try OutputFile(creating: stagedRestoreJournal)
        try file.write(Array(data))
        try file.sync()
        file.close()
    }

    /// Puts the staged journal in force (a rename, then the folder's fsync).
    func placeRestoreJournal() throws(BackupError) {
        try FileOps.rename(stagedRestoreJournal, to: restoreJournal)
        try FileOps.fsyncDirectory(root)
    }

    private var stagedRestoreJournal: URL { root.appendingPathComponent(".restore-journal.json.new") }

    /// The journal ``stageRestoreJournal(_:)`` wrote and ``placeRestoreJournal()`` has not yet put
    /// in force, if any; nil too when it cannot be read (a crash while it was written).
    func readStagedRestoreJournal() -> RestoreJournal? {
        guard let data = try? Data(contentsOf: stagedRestoreJournal) else { return nil }
        return try? JSONDecoder.backupManager().decode(RestoreJournal.self, from: data)
    }

    /// Removes a staged journal that will not be put in force.
    func removeStagedRestoreJournal() {
        FileOps.removeIfPresent(stagedRestoreJournal)
    }

    /// Removes the journal durably: the restore it described is over.
    func removeRestoreJournal() throws(BackupError) {
        try FileOps.remove(restoreJournal)
        try FileOps.fsyncDirectory(root)
    }
}
