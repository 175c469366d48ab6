import Foundation

/// A bundle file the operator names (`backup import PATH`, `backup restore --file PATH`).
enum BundleFile {
    /// Checks that `url` can be a bundle before anything is copied or locked: it exists, is a
    /// file, and starts as a bundle does (gzip's or zstd's magic bytes, or the age header of an
    /// encrypted bundle, whatever its name). A
    /// damaged bundle passes (verification then says what is wrong with it); anything else fails
    /// in words about the file, not about a compressed stream:
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
        let longest = max(CodecName.allCases.map { $0.codec.magic.count }.max() ?? 0, AgeFormat.magic.count)
        let head = [UInt8]((try? handle.read(upToCount: longest)) ?? Data())
        guard !head.isEmpty else { throw .notABundle(path: url.path, reason: "it is empty") }
        guard CodecName.detect(head: head) != nil || EncryptedBundle.isEncrypted(head: head) else {
            throw .notABundle(
                path: url.path,
                reason: "it is not gzip- or zstd-compressed, as backup-….tar.gz and backup-….tar.zst bundles are")
        }
    }
}
