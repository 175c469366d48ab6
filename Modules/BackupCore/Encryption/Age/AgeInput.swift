/// A buffered view of a ``ByteSource`` for the age reader: header lines one at a time, then the
/// payload in whole chunks, so no byte is read twice nor lost between the two.
final class AgeInput {
    private let source: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    /// The unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEnd = false

    init(source: any ByteSource) {
        self.source = source
        buffer = .allocate(byteCount: AgeFormat.maxLineLength, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next line with its LF; what is left without one at the end of the source (possibly
    /// empty); nil for a line longer than `AgeFormat.maxLineLength`.
    func readLine() throws(BackupError) -> [UInt8]? {
        var scanned = start
        while true {
            if let newline = UnsafeRawBufferPointer(rebasing: buffer[scanned..<end]).firstIndex(of: 0x0A) {
                let line = Array(buffer[start...(scanned + newline)])
                start = scanned + newline + 1
                return line
            }
            scanned = end
            if atEnd {
                let rest = Array(buffer[start..<end])
                start = end
                return rest
            }
            if start > 0 {
                let count = end - start
                if count > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count) }
                scanned -= start
                start = 0
                end = count
            }
            guard end < buffer.count else { return nil }
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if count == 0 { atEnd = true }
            end += count
        }
    }

    /// Fills `destination` (buffered bytes first, then straight from the source); fewer bytes
    /// only at the end of the source.
    func readFully(into destination: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        var filled = min(end - start, destination.count)
        if filled > 0 {
            destination.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: filled)
            start += filled
        }
        while filled < destination.count && !atEnd {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled...]))
            if count == 0 { atEnd = true }
            filled += count
        }
        return filled
    }
}
