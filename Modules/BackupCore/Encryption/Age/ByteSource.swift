/// Bytes read in order from somewhere: a file, or a stream decrypted from one.
protocol ByteSource: AnyObject {
    /// Fills as much of `buffer` as it can; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int
}
