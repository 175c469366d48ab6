import CZstd
import Foundation

extension RepositoryIndex {
    /// The largest index a reader decompresses (about 100 bytes per chunk and entry).
    static let maximumJSONBytes: UInt64 = 1 << 31

    /// The index file's bytes before encryption: the index as compact JSON (sorted keys, RFC 3339
    /// dates), compressed as one zstd frame with its size and checksum (`zstd -d` gives the JSON).
    func fileBytes() throws(BackupError) -> [UInt8] {
        let json: Data
        do {
            json = try JSONEncoder.backupManager().encode(self)
        } catch {
            throw .io(path: "index \(manifest.id)", reason: "cannot encode: \(error)")
        }
        guard let context = ZSTD_createCCtx() else { throw .io(path: "zstd", reason: "no compression context") }
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(json.count))
        let written = output.withUnsafeMutableBytes { out in
            json.withUnsafeBytes { input in
                ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(written) == 0 else {
            throw .io(
                path: "index \(manifest.id)",
                reason: "compression failed (\(String(cString: ZSTD_getErrorName(written))))")
        }
        return Array(output[..<written])
    }

    /// Reads an index from its file's bytes (``fileBytes()``, decrypted when encrypted); `name`
    /// (the file's) goes into the messages. Anything else is a verification failure.
    init(fileBytes: [UInt8], name: String) throws(BackupError) {
        let size = fileBytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= Self.maximumJSONBytes else {
            throw .verificationFailed(reason: "index \(name): not a zstd frame of a known size")
        }
        var json = [UInt8](repeating: 0, count: Int(size))
        let produced = json.withUnsafeMutableBytes { output in
            fileBytes.withUnsafeBytes { input in
                ZSTD_decompress(output.baseAddress, output.count, input.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(produced) == 0, produced == json.count else {
            throw .verificationFailed(reason: "index \(name): does not decompress")
        }
        do {
            self = try JSONDecoder.backupManager().decode(RepositoryIndex.self, from: Data(json))
        } catch {
            throw .verificationFailed(reason: "index \(name): not a repository index (\(error))")
        }
        guard format == Self.formatName, version == Self.currentVersion else {
            throw .verificationFailed(reason: "index \(name): format \(format) version \(version)")
        }
    }

    /// Reads the index file at `url`; an encrypted one (`.age`) with `identity`, the
    /// repository's own.
    init(contentsOf url: URL, identity: AgeIdentity? = nil) throws(BackupError) {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw .io(path: url.path, reason: "cannot read the index: \(error.localizedDescription)")
        }
        try self.init(stored: [UInt8](bytes), name: url.lastPathComponent, identity: identity)
    }

    /// Reads an index from the bytes stored under `name` (a file's or an object's): an
    /// encrypted one (its name ends in `.age`) is opened with `identity`, the repository's own,
    /// first. The one place that tells the two apart: every reader comes through here.
    init(stored bytes: [UInt8], name: String, identity: AgeIdentity?) throws(BackupError) {
        guard name.hasSuffix(".age") else {
            try self.init(fileBytes: bytes, name: name)
            return
        }
        guard let identity else {
            throw .verificationFailed(reason: "index \(name) is encrypted and no key to the repository is at hand")
        }
        try self.init(fileBytes: try RepositoryCipher.open(bytes, keys: [.identity(identity)], name: name), name: name)
    }
}
