/// A byte source whose first bytes can be looked at before they are read: the codec of a
/// decrypted bundle is named by its first bytes, which the codec's reader then reads again.
final class PeekingSource: ByteSource {
    private let source: any ByteSource
    private var head: [UInt8] = []
    private var headOffset = 0

    init(_ source: any ByteSource) {
        self.source = source
    }

    /// Up to `count` first bytes (fewer only when the stream is shorter); call before any read.
    func peek(count: Int) throws(BackupError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read = try bytes.withMutableBytes { (buffer) throws(BackupError) in
                try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            }
            if read == 0 { break }
            filled += read
        }
        head = Array(bytes[0..<filled])
        return head
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard headOffset < head.count else { return try source.read(into: buffer) }
        let count = min(buffer.count, head.count - headOffset)
        head[headOffset..<(headOffset + count)].withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count)
        }
        headOffset += count
        return count
    }
}
