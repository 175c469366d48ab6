import Foundation

extension RepositoryGC {
    /// The largest index a collection reads (about 70 bytes per chunk: room for a few terabytes).
    static let maximumIndexBytes = 512 << 20

    /// Reads a plain index file (`.json.zst`): one zstd frame of JSON. An encrypted index
    /// (`.json.zst.age`) needs the repository's key, which this reader has not: it is refused,
    /// and so the whole collection (see ``LiveChunks``), never guessed at.
    static func readPlainIndex(at url: URL) throws(BackupError) -> RepositoryIndex {
        guard url.lastPathComponent.hasSuffix(".json.zst") else {
            throw .verificationFailed(
                reason: "index \(url.lastPathComponent) is encrypted and this collection has no key to read it")
        }
        let file = try InputFile(reading: url)
        var bytes: [UInt8] = []
        do throws(BackupError) {
            let reader = try ZstdReader(source: file) { _ in }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                bytes.append(contentsOf: buffer[..<count])
                guard bytes.count <= maximumIndexBytes else {
                    throw .verificationFailed(reason: "it is larger than \(maximumIndexBytes) bytes")
                }
            }
        } catch .verificationFailed(let reason) {
            throw .verificationFailed(reason: "index \(url.lastPathComponent): \(reason)")
        }
        do {
            return try JSONDecoder.backupManager().decode(RepositoryIndex.self, from: Data(bytes))
        } catch {
            throw .verificationFailed(reason: "index \(url.lastPathComponent) is not a valid index: \(error)")
        }
    }
}
