/// A stream that decompresses a bundle file, refusing anything but one well-formed stream.
protocol DecompressingReader: AnyObject {
    /// Compressed bytes read from the file so far (for progress).
    var compressedBytesRead: Int64 { get }
    /// Fills as much of `buffer` as the stream allows; 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int
    /// Reads what is left of the file without decompressing it, so the bundle hash can still be
    /// reported after a decompression failure.
    func drain()
}
