extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for closures that throw ``BackupError``.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BackupError) -> R) throws(BackupError) -> R {
        try withUnsafeBytes { buffer in Result { () throws(BackupError) in try body(buffer) } }.get()
    }

    /// `withUnsafeMutableBytes` for closures that throw ``BackupError``.
    mutating func withMutableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws(BackupError) -> R
    ) throws(BackupError) -> R {
        try withUnsafeMutableBytes { buffer in Result { () throws(BackupError) in try body(buffer) } }.get()
    }
}
