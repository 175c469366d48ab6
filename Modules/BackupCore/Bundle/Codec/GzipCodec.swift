/// gzip: ``ParallelGzipWriter`` and ``GzipReader``, one gzip member per bundle.
struct GzipCodec: BundleCodec {
    var name: CodecName { .gzip }
    var fileExtension: String { ".tar.gz" }
    var contentType: String { "application/gzip" }
    var magic: [UInt8] { [0x1F, 0x8B] }
    var levels: ClosedRange<Int> { 1...9 }
    var defaultLevel: Int { 1 }

    func writer(level: Int, sink: @escaping CompressedSink) -> any CompressingWriter {
        ParallelGzipWriter(level: level, sink: sink)
    }

    func reader(
        source: any ByteSource, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError)
        -> any DecompressingReader
    {
        try GzipReader(source: source, onCompressed: onCompressed)
    }
}

extension ParallelGzipWriter: CompressingWriter {}
extension GzipReader: DecompressingReader {}
