/// The reader of a file that starts as no codec does: it reads nothing and says so, and drains
/// the file so the bundle hash can still be reported.
final class UnrecognizedBundleReader: DecompressingReader {
    private let file: InputFile
    private let onCompressed: (UnsafeRawBufferPointer) -> Void
    private(set) var compressedBytesRead: Int64 = 0

    init(file: InputFile, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.file = file
        self.onCompressed = onCompressed
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        throw .verificationFailed(reason: "the bundle is neither gzip- nor zstd-compressed")
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
