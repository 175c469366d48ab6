/// The reader of a file that cannot be read as a bundle (it starts as no codec does, or its age
/// header does not open): it reads nothing and says why, and drains the file so the bundle hash
/// can still be reported.
final class UnrecognizedBundleReader: DecompressingReader {
    private let file: any ByteSource
    private let reason: String
    private let onCompressed: (UnsafeRawBufferPointer) -> Void
    private(set) var compressedBytesRead: Int64 = 0

    init(
        file: any ByteSource, reason: String = "the bundle is neither gzip- nor zstd-compressed",
        onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) {
        self.file = file
        self.reason = reason
        self.onCompressed = onCompressed
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        throw .verificationFailed(reason: reason)
    }

    func drain() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while let count = try? file.read(into: buffer), count > 0 {
            compressedBytesRead += Int64(count)
            onCompressed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
