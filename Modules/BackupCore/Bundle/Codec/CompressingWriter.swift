/// A stream that compresses what is written to it into its codec's format.
protocol CompressingWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError)
    /// Compresses what is left and ends the stream; called once.
    func finish() throws(BackupError)
}

extension CompressingWriter {
    func write(_ bytes: [UInt8]) throws(BackupError) {
        try bytes.withBytes { (buffer) throws(BackupError) in try write(buffer) }
    }
}
