import Foundation

/// Makes the repository's folders durably: each folder created is fsynced into its parent.
enum RepositoryFolders {
    /// Creates `folder` and any missing parent up to `root` (which it creates too), fsyncing the
    /// parent of each one made, so a rename into `folder` survives a crash.
    static func make(_ folder: URL, below root: URL) throws(BackupError) {
        guard !FileOps.exists(folder) else { return }
        let parent = folder.deletingLastPathComponent()
        if folder.standardizedFileURL.path != root.standardizedFileURL.path {
            try make(parent, below: root)
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .io(path: folder.path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        try FileOps.fsyncDirectory(parent)
    }
}
