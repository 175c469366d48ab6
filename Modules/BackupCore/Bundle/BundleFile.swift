import Foundation

/// A bundle file the operator names (`backup import PATH`, `backup restore --file PATH`).
enum BundleFile {
    /// gzip's magic number, the first two bytes of every bundle.
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]

    /// Checks that `url` can be a bundle before anything is copied or locked: it exists, is a
    /// file, and starts as a bundle does. A damaged bundle passes (verification then says what
    /// is wrong with it); anything else fails in words about the file, not about a gzip stream:
    /// ``BackupError/fileNotFound(path:)`` or ``BackupError/notABundle(path:reason:)``.
    static func check(_ url: URL) throws(BackupError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: url.path)
        }
        guard !isDirectory.boolValue else { throw .notABundle(path: url.path, reason: "it is a directory") }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw .io(path: url.path, reason: "cannot open it for reading (permission denied?)")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: gzipMagic.count)) ?? Data())
        guard !head.isEmpty else { throw .notABundle(path: url.path, reason: "it is empty") }
        guard head == gzipMagic else {
            throw .notABundle(path: url.path, reason: "it is not gzip-compressed, as backup-….tar.gz bundles are")
        }
    }
}
