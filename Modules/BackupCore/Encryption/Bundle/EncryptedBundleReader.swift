/// The reader of an encrypted bundle: the codec's reader over the decrypted stream, with the
/// file's own bytes (the ciphertext) counted for progress and drained for the bundle hash.
final class EncryptedBundleReader: DecompressingReader {
    private let inner: any DecompressingReader
    private let file: ObservedSource

    init(_ inner: any DecompressingReader, file: ObservedSource) {
        self.inner = inner
        self.file = file
    }

    /// Bytes of the file read so far (ciphertext: the file's size at the end).
    var compressedBytesRead: Int64 { file.bytesRead }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        let count = try inner.read(into: buffer)
        // The decryption has checked the final chunk and that nothing follows it; the file's
        // hash still sees every byte.
        if count == 0 { file.drain() }
        return count
    }

    func drain() { file.drain() }
}
