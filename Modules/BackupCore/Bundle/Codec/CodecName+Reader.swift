import Foundation

extension CodecName {
    /// A reader for the bundle in `file`, by the codec its first bytes name (nil, and a reader
    /// that reports the file as no bundle, when they name none).
    static func reader(
        for file: InputFile, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError) -> (codec: CodecName?, reader: any DecompressingReader) {
        guard let name = detect(fileAt: file.url) else {
            return (nil, UnrecognizedBundleReader(file: file, onCompressed: onCompressed))
        }
        return (name, try name.codec.reader(file: file, onCompressed: onCompressed))
    }
}
