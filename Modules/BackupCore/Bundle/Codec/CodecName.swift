import Foundation

/// The compression of a bundle: what the settings choose for new bundles and what reading a
/// bundle detects from its first bytes (never from its file name).
public enum CodecName: String, CaseIterable, Codable, Sendable {
    /// `.tar.gz`, what every bundle used before zstd; opens with `tar -xzf`.
    case gzip
    /// `.tar.zst`; opens with `tar --zstd -xf` or `zstd -dc FILE | tar -x`.
    case zstd

    /// The codec itself: its streams and its constants.
    var codec: any BundleCodec {
        switch self {
        case .gzip: GzipCodec()
        case .zstd: ZstdCodec()
        }
    }

    /// The bundle file name's extension, with its dot: `.tar.gz`, `.tar.zst`.
    public var fileExtension: String { codec.fileExtension }
    /// The media type of a bundle in this codec: `application/gzip`, `application/zstd`.
    public var contentType: String { codec.contentType }
    /// The compression levels this codec accepts (gzip 1-9, zstd 1-19).
    public var levels: ClosedRange<Int> { codec.levels }
    /// The level a new setting starts from.
    public var defaultLevel: Int { codec.defaultLevel }

    /// The codec whose magic bytes `head` starts with, if any.
    public static func detect(head: some Collection<UInt8>) -> CodecName? {
        allCases.first { head.starts(with: $0.codec.magic) }
    }

    /// The codec of the file at `url`, read from its first bytes; nil when it is unreadable,
    /// empty or starts as neither codec does.
    public static func detect(fileAt url: URL) -> CodecName? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        let longest = allCases.map { $0.codec.magic.count }.max() ?? 0
        guard let head = try? handle.read(upToCount: longest) else { return nil }
        return detect(head: [UInt8](head))
    }
}
