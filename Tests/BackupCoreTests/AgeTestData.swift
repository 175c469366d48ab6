import Crypto
import Foundation

@testable import BackupCore

/// Bytes in memory as a ``ByteSource``, handed out at most `readSize` at a time (small sizes make
/// the age reader's buffering meet every boundary).
final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private let readSize: Int
    private var offset = 0

    init(_ bytes: [UInt8], readSize: Int = .max) {
        self.bytes = bytes
        self.readSize = readSize
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        let count = min(buffer.count, readSize, bytes.count - offset)
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// Encrypting and decrypting whole byte arrays through the streaming types, as the tests need.
enum AgeTestData {
    /// `plaintext` encrypted to `lock`, written in pieces of `writeSize` bytes.
    static func encrypt(_ plaintext: [UInt8], to lock: AgeLock, writeSize: Int = 100_003) throws(BackupError) -> [UInt8]
    {
        var output: [UInt8] = []
        let writer = try AgeEncryptingWriter(lock: lock) { bytes in output.append(contentsOf: bytes) }
        var offset = 0
        while offset < plaintext.count {
            let end = min(offset + writeSize, plaintext.count)
            try plaintext.withBytes { (bytes) throws(BackupError) in
                try writer.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            }
            offset = end
        }
        try writer.finish()
        return output
    }

    /// What the reader released from `file` before it ended or failed, and its error if it failed.
    static func decrypt(
        _ file: [UInt8], keys: [AgeKey], readSize: Int = 65_536, sourceReadSize: Int = .max
    )
        -> (plaintext: [UInt8], error: BackupError?)
    {
        var plaintext: [UInt8] = []
        do throws(BackupError) {
            let reader = try AgeDecryptingReader(source: MemorySource(file, readSize: sourceReadSize), keys: keys)
            var buffer = [UInt8](repeating: 0, count: readSize)
            while true {
                let count = try buffer.withMutableBytes { (bytes) throws(BackupError) in try reader.read(into: bytes) }
                if count == 0 { return (plaintext, nil) }
                plaintext += buffer[0..<count]
            }
        } catch {
            return (plaintext, error)
        }
    }

    /// The failure reason of `error`, or nil when it is not a verification failure.
    static func reason(_ error: BackupError?) -> String? {
        guard case .verificationFailed(let reason) = error else { return nil }
        return reason
    }

    /// Deterministic bytes that do not repeat with the chunk size.
    static func sample(count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
