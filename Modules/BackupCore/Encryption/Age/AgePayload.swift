import Crypto
import Foundation

/// The payload's STREAM construction: 64 KiB chunks, each sealed with ChaCha20-Poly1305 under
/// the payload key and a nonce made of an 11-byte big-endian chunk counter and a final-chunk
/// flag, so chunks cannot be dropped, reordered or added without failing authentication.
enum AgePayload {
    /// The nonce of chunk `counter` (from 0); `final` for the last chunk of the file.
    static func nonce(counter: UInt64, final: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[3 + index] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * index)) }
        bytes[11] = final ? 1 : 0
        return try! ChaChaPoly.Nonce(data: bytes)
    }
}

extension Data {
    /// `withUnsafeBytes` for closures that throw ``BackupError``.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BackupError) -> R) throws(BackupError) -> R {
        try withUnsafeBytes { buffer in Result { () throws(BackupError) in try body(buffer) } }.get()
    }
}
