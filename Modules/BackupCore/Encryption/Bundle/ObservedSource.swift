/// A byte source that shows every byte read through it to `onBytes` and counts them: the bundle
/// hash and the progress of an encrypted bundle, computed on the file's own bytes (the
/// ciphertext), below the decryption.
final class ObservedSource: ByteSource {
    private let source: any ByteSource
    private let onBytes: (UnsafeRawBufferPointer) -> Void
    private(set) var bytesRead: Int64 = 0
    private(set) var isExhausted = false

    init(_ source: any ByteSource, onBytes: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.source = source
        self.onBytes = onBytes
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        let count = try source.read(into: buffer)
        if count == 0 {
            isExhausted = true
            return 0
        }
        bytesRead += Int64(count)
        onBytes(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }

    /// Reads (and shows) what is left, without decrypting it, so the hash of the whole file can
    /// be reported after a failure; a read error ends it quietly.
    func drain() {
        guard !isExhausted else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while !isExhausted {
            guard (try? read(into: buffer)) != nil else { return }
        }
    }
}
