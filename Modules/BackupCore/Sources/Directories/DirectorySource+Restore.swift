import Foundation

extension DirectorySource {
    /// Putting a directory back is not written yet: a bundle's files are verified, never restored.
    func restore(
        from workspace: SourceWorkspace, timeout: Duration, writersWaited: inout Duration?,
        progress: (RestoreStep) -> Void, underLock: () async throws(BackupError) -> Void
    ) async throws(BackupError) {
        throw .io(path: root.path, reason: "restoring directories is not supported by this version")
    }
}
