/// A compression format for bundles: its constants and its two streams.
///
/// The writer compresses what ``BundleWriter`` frames as tar; the reader feeds ``TarReader`` and
/// shows every compressed byte it reads to its caller (the bundle hash and the progress are
/// computed there). Both refuse what is not exactly one well-formed stream of their format: a
/// corrupt or truncated stream, or bytes after its end, is
/// ``BackupError/verificationFailed(reason:)``.
protocol BundleCodec: Sendable {
    var name: CodecName { get }
    /// `.tar.gz`, `.tar.zst`.
    var fileExtension: String { get }
    var contentType: String { get }
    /// The bytes every stream of this codec starts with.
    var magic: [UInt8] { get }
    var levels: ClosedRange<Int> { get }
    var defaultLevel: Int { get }

    /// A writer compressing at `level` (within ``levels``) that hands compressed bytes to `sink`,
    /// in order, on the caller's thread.
    func writer(level: Int, sink: @escaping CompressedSink) throws(BackupError) -> any CompressingWriter

    /// A reader decompressing `source` (the bundle file, or the stream decrypted from it) from
    /// its start; `onCompressed` sees every byte read from it.
    func reader(
        source: any ByteSource, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError)
        -> any DecompressingReader
}

/// Where a ``CompressingWriter`` hands its output.
typealias CompressedSink = (UnsafeRawBufferPointer) throws(BackupError) -> Void
