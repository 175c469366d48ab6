import Foundation

/// zstd (RFC 8878) through libzstd: ``ZstdWriter`` and ``ZstdReader``, one frame per bundle,
/// with the frame's content checksum.
struct ZstdCodec: BundleCodec {
    var name: CodecName { .zstd }
    var fileExtension: String { ".tar.zst" }
    var contentType: String { "application/zstd" }
    var magic: [UInt8] { [0x28, 0xB5, 0x2F, 0xFD] }
    var levels: ClosedRange<Int> { 1...19 }
    var defaultLevel: Int { 3 }

    func writer(level: Int, sink: @escaping CompressedSink) throws(BackupError) -> any CompressingWriter {
        try ZstdWriter(level: level, threads: ProcessInfo.processInfo.activeProcessorCount, sink: sink)
    }

    func reader(
        source: any ByteSource, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError)
        -> any DecompressingReader
    {
        try ZstdReader(source: source, onCompressed: onCompressed)
    }
}
