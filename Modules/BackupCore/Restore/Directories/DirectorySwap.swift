import Foundation

/// Puts restored directory trees in place of the live ones with renames, crash-safely.
///
/// Each directory's new tree is extracted next to it (`<target>.restore-<id>`, the same file
/// system), then swapped in: `<target>` → `<target>.pre-restore-<id>`, staging → `<target>`.
/// ``RestoreJournal`` records every step before it is taken, so whatever happens each
/// directory is either its old tree or its new one, never a mix: a failure (or, after a crash,
/// the next process to take the job lock, through ``recover(in:)``) renames everything back
/// before the commit point (``RestoreJournal/Phase/databaseReplaced``) and finishes after it.
/// The caller holds the job lock throughout.
struct DirectorySwap: Sendable {
    let dataDirectory: DataDirectory
    private(set) var journal: RestoreJournal
    /// Committed or rolled back: nothing is left to undo.
    private var isSettled = false

    /// The staging and old paths of `target` for the restore of backup `id`.
    static func paths(of target: URL, id: String) -> (staging: URL, old: URL) {
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        return (
            parent.appendingPathComponent("\(name).restore-\(id)"),
            parent.appendingPathComponent("\(name).pre-restore-\(id)")
        )
    }

    /// Records the restore of `targets` from backup `backupID` in the journal (phase
    /// ``RestoreJournal/Phase/extracting``), after checking that none of the paths it will
    /// create is taken (``BackupError/pathInTheWay(path:)``).
    static func begin(
        _ targets: [URL], backupID: String, keepOld: Bool, in dataDirectory: DataDirectory
    ) throws(BackupError) -> DirectorySwap {
        var directories: [RestoreJournal.Directory] = []
        for target in targets {
            let (staging, old) = paths(of: target, id: backupID)
            for path in [staging, old] where FileOps.exists(path) { throw .pathInTheWay(path: path.path) }
            directories.append(.init(target: target.path, staging: staging.path, old: old.path))
        }
        let journal = RestoreJournal(backupID: backupID, phase: .extracting, keepOld: keepOld, directories: directories)
        try dataDirectory.writeRestoreJournal(journal)
        return DirectorySwap(dataDirectory: dataDirectory, journal: journal)
    }

    /// Every staging tree is extracted and checked: flushes them to disk, then records it.
    mutating func staged() throws(BackupError) {
        for directory in journal.directories {
            try FileTree.syncFileSystem(of: URL(fileURLWithPath: directory.staging))
        }
        try advance(to: .staged)
        RestorePause.reach("staged")
    }

    /// Swaps every directory (old tree aside, new tree in), or, when a rename fails, puts
    /// everything back and throws.
    mutating func swap() throws(BackupError) {
        for index in journal.directories.indices {
            journal.directories[index].existed = FileOps.exists(URL(fileURLWithPath: journal.directories[index].target))
        }
        try advance(to: .swapping)
        do throws(BackupError) {
            for (index, directory) in journal.directories.enumerated() {
                let target = URL(fileURLWithPath: directory.target)
                if directory.existed == true {
                    try FileTree.renameNoReplace(target, to: URL(fileURLWithPath: directory.old))
                    RestorePause.reach("swap:\(index + 1):aside")
                }
                try FileTree.renameNoReplace(URL(fileURLWithPath: directory.staging), to: target)
                try FileOps.fsyncDirectory(target.deletingLastPathComponent())
                RestorePause.reach("swap:\(index + 1)")
            }
        } catch {
            rollBack()
            throw error
        }
    }

    /// Writes the commit record ahead of time (fsynced, not yet in force), so that the commit
    /// point can be put in force with a single rename (``placeCommit(in:)``) on the very thread
    /// that commits the database, right after that commit.
    ///
    /// The database's commit and that rename are two steps: a crash between them (the WAL's
    /// fsync inside SQLite's commit makes it milliseconds, not microseconds) leaves the database
    /// new and the record only staged. For a SQLite database the record carries its schema
    /// cookie from before the commit, which the commit raises, so ``recover(in:)`` tells the two
    /// cases apart. For PostgreSQL there is no such mark: a crash between `pg_restore`'s commit
    /// and the rename rolls the directories back under a new database.
    func prepareCommit(databaseSchemaVersion: Int? = nil) throws(BackupError) {
        var committed = journal
        committed.phase = .databaseReplaced
        committed.databaseSchemaVersion = databaseSchemaVersion
        try dataDirectory.stageRestoreJournal(committed)
        RestorePause.reach("commit-prepared")
    }

    /// Puts the commit record ``prepareCommit()`` wrote in force (one rename). A failure here is
    /// made up for by ``commit()``.
    static func placeCommit(in dataDirectory: DataDirectory) {
        try? dataDirectory.placeRestoreJournal()
    }

    /// The commit point: records that the restore holds (the database, if restored, is
    /// replaced), unless ``placeCommit(in:)`` already did. From here on a crash finishes the
    /// restore instead of undoing it.
    mutating func commit() throws(BackupError) {
        journal.phase = .databaseReplaced
        if try dataDirectory.readRestoreJournal()?.phase != .databaseReplaced {
            try dataDirectory.writeRestoreJournal(journal)
        }
        isSettled = true
        RestorePause.reach("database-replaced")
    }

    /// After ``commit()``: removes the old trees unless they are kept, then the journal. Not part
    /// of the restore's success: what cannot be removed now stays in the journal, and the next
    /// start removes it.
    func removeOldTrees() {
        guard journal.phase == .databaseReplaced else { return }
        try? Self.finish(journal, in: dataDirectory)
    }

    /// Puts every directory back as it was and removes the staging trees and the journal, unless
    /// the swap was committed or already rolled back. Best effort: what cannot be undone now
    /// stays in the journal for the next start.
    ///
    /// A restore whose commit point is already in force (the database committed, then a later
    /// step failed) is finished instead, as the next start would.
    mutating func rollBack() {
        guard !isSettled else { return }
        isSettled = true
        if (try? dataDirectory.readRestoreJournal()?.phase) == .databaseReplaced {
            journal.phase = .databaseReplaced
            removeOldTrees()
            return
        }
        try? Self.rollBack(journal, in: dataDirectory)
    }

    /// Finishes or rolls back a restore a dead process left in the journal; nil when there was none.
    static func recover(in dataDirectory: DataDirectory) throws(BackupError) -> RestoreJournal.Phase? {
        guard var journal = try dataDirectory.readRestoreJournal() else { return nil }
        if journal.phase == .swapping, let committed = committedButNotPlaced(journal, in: dataDirectory) {
            // The database committed, the process died before the commit record's rename.
            try dataDirectory.placeRestoreJournal()
            journal = committed
        }
        dataDirectory.removeStagedRestoreJournal()
        if journal.phase == .databaseReplaced {
            try finish(journal, in: dataDirectory)
        } else {
            try rollBack(journal, in: dataDirectory)
        }
        return journal.phase
    }

    /// The commit record ``prepareCommit(databaseSchemaVersion:)`` staged for `journal`'s
    /// restore, when the SQLite database it replaces has committed since: its schema cookie is
    /// no longer the one recorded under the lock. An application that changes its schema between
    /// the crash and this recovery would pass for a commit; nothing else changes the cookie.
    private static func committedButNotPlaced(
        _ journal: RestoreJournal, in dataDirectory: DataDirectory
    ) -> RestoreJournal? {
        guard let staged = dataDirectory.readStagedRestoreJournal(), staged.backupID == journal.backupID,
            staged.phase == .databaseReplaced, let before = staged.databaseSchemaVersion,
            case .sqlite(let database) = dataDirectory.location, FileOps.exists(database),
            let now = DatabaseReplacer.schemaVersion(of: database)
        else { return nil }
        return now != before ? staged : nil
    }

    private mutating func advance(to phase: RestoreJournal.Phase) throws(BackupError) {
        journal.phase = phase
        try dataDirectory.writeRestoreJournal(journal)
    }

    /// After the commit point: the new trees stay; the old ones go unless kept.
    private static func finish(_ journal: RestoreJournal, in dataDirectory: DataDirectory) throws(BackupError) {
        for directory in journal.directories {
            try FileTree.remove(URL(fileURLWithPath: directory.staging))
            if !journal.keepOld { try FileTree.remove(URL(fileURLWithPath: directory.old)) }
        }
        try dataDirectory.removeRestoreJournal()
    }

    /// Before the commit point: every directory back to its old tree (each step undoes one
    /// rename and can be repeated after a crash), recorded, then the staging trees removed.
    private static func rollBack(_ journal: RestoreJournal, in dataDirectory: DataDirectory) throws(BackupError) {
        if journal.phase == .swapping {
            for directory in journal.directories.reversed() {
                let target = URL(fileURLWithPath: directory.target)
                let staging = URL(fileURLWithPath: directory.staging)
                let old = URL(fileURLWithPath: directory.old)
                if FileOps.exists(old) {
                    // The old tree was moved aside; the new one may have come in after it.
                    if FileOps.exists(target) { try FileTree.renameNoReplace(target, to: staging) }
                    try FileTree.renameNoReplace(old, to: target)
                } else if directory.existed == false, FileOps.exists(target), !FileOps.exists(staging) {
                    // No old tree to put back: the new one came in where nothing was.
                    try FileTree.renameNoReplace(target, to: staging)
                }
                try FileOps.fsyncDirectory(target.deletingLastPathComponent())
            }
            var rolledBack = journal
            rolledBack.phase = .rolledBack
            try dataDirectory.writeRestoreJournal(rolledBack)
        }
        for directory in journal.directories {
            try FileTree.remove(URL(fileURLWithPath: directory.staging))
        }
        try dataDirectory.removeRestoreJournal()
    }
}
