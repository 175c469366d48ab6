import Foundation

extension DirectorySource {
    /// Not the path a restore takes: directories are put back by the restore flow itself
    /// (`Restore/Directories/`: a second read of the bundle extracts each tree beside its
    /// target, and ``DirectorySwap`` swaps them in under the database's write lock with a
    /// journal), since the swap has to share the database's commit point. Reaching this is a bug.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: () async throws(BackupError) -> Void
    ) async throws(BackupError) {
        throw .io(path: root.path, reason: "a directory is restored through the restore flow, not on its own")
    }
}
