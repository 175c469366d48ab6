import Crypto
import Foundation

/// The age side of an encrypted repository: packs, indexes and the repository's key are each one
/// whole age file (`age -d` opens them). Packs and indexes are encrypted to the repository's own
/// X25519 recipient (cheap per file, where a passphrase's scrypt would cost a second each); its
/// identity is in `keys/repository-key.age`, encrypted to the operator's key or passphrase
/// (``RepositoryKey``). The readers' seam: ``open(_:keys:name:)`` for an index,
/// ``openFile(_:into:keys:)`` for a pack (decrypted into `.tmp/`, then read as a plain pack).
///
/// Blocking: runs on the job's thread.
enum RepositoryCipher {
    /// `bytes` encrypted to `lock`.
    static func seal(_ bytes: [UInt8], lock: AgeLock) throws(BackupError) -> [UInt8] {
        var sealed: [UInt8] = []
        let writer = try AgeEncryptingWriter(lock: lock) { (chunk) throws(BackupError) in sealed += chunk }
        var failure: BackupError?
        bytes.withUnsafeBytes { raw in
            do throws(BackupError) { try writer.write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        try writer.finish()
        return sealed
    }

    /// Encrypts the file `plain` into `sealed` (created, fsynced) to `lock`; returns the SHA-256
    /// (hex) and size of the bytes written: a sealed pack's name and size.
    static func sealFile(
        _ plain: URL, into sealed: URL, lock: AgeLock
    ) throws(BackupError) -> (
        sha256: String, size: Int64
    ) {
        FileOps.removeIfPresent(sealed)
        let output = try OutputFile(creating: sealed)
        var hash = SHA256()
        let writer = try AgeEncryptingWriter(lock: lock) { (chunk) throws(BackupError) in
            hash.update(bufferPointer: chunk)
            try output.write(chunk)
        }
        let input = try InputFile(reading: plain)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try input.readFully(into: buffer)
            if count == 0 { break }
            try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        try writer.finish()
        try output.sync()
        output.close()
        return (hash.finalize().hexString, output.bytesWritten)
    }

    /// The plaintext of the age file `bytes` (named `name` in messages), opened with `keys`.
    static func open(_ bytes: [UInt8], keys: [AgeKey], name: String) throws(BackupError) -> [UInt8] {
        let reader = try AgeDecryptingReader(source: MemorySource(bytes), keys: keys)
        var plain: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var failure: BackupError?
            let count = buffer.withUnsafeMutableBytes { raw -> Int in
                do throws(BackupError) { return try reader.read(into: raw) } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if count == 0 { break }
            plain += buffer[0..<count]
        }
        return plain
    }

    /// Decrypts the age file `url` into `plain` (created) with `keys`.
    static func openFile(_ url: URL, into plain: URL, keys: [AgeKey]) throws(BackupError) {
        FileOps.removeIfPresent(plain)
        let reader = try AgeDecryptingReader(source: try InputFile(reading: url), keys: keys)
        let output = try OutputFile(creating: plain)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try reader.read(into: buffer)
            if count == 0 { break }
            try output.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        output.close()
    }
}

/// Bytes in memory as a ``ByteSource``.
final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
