import CZstd
import Crypto
import Foundation

/// Reads a pack file: its trailer, and single chunks by their entries, each checked against its
/// SHA-256. A damaged pack is ``BackupError/verificationFailed(reason:)`` naming what is wrong.
///
/// Blocking: runs on the job's thread.
struct PackReader {
    let url: URL

    /// The chunks the pack's trailer lists.
    func entries() throws(BackupError) -> [PackEntry] {
        let file = try InputFile(reading: url)
        let size = Int64(FileOps.size(of: url) ?? 0)
        let smallest = Int64(PackFormat.magic.count + 8)
        guard size >= smallest else { throw damaged("shorter than a pack can be (\(size) bytes)") }
        guard try read(file, PackFormat.magic.count, at: 0) == PackFormat.magic else {
            throw damaged("not a pack (no BMPACK1 line)")
        }
        let length = try read(file, 8, at: size - 8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        guard length > 0, length <= PackFormat.maximumTrailerBytes, length <= size - smallest else {
            throw damaged("its trailer length \(length) does not fit the file")
        }
        let trailer = try read(file, Int(length), at: size - 8 - length)
        let decoded: PackTrailer
        do {
            decoded = try JSONDecoder().decode(PackTrailer.self, from: Data(trailer))
        } catch {
            throw damaged("its trailer is not valid JSON")
        }
        guard decoded.version == PackFormat.version else { throw damaged("pack version \(decoded.version)") }
        let end = size - 8 - length
        for entry in decoded.chunks
        where entry.offset < Int64(PackFormat.magic.count) || entry.length <= 0 || entry.offset + entry.length > end {
            throw damaged("chunk \(entry.sha256) lies outside the pack's data")
        }
        return decoded.chunks
    }

    /// The chunk `entry` names, decompressed and checked against its SHA-256.
    func chunk(_ entry: PackEntry) throws(BackupError) -> [UInt8] {
        try chunk(entry, in: try InputFile(reading: url))
    }

    /// The chunk `entry` names, read from `file` (this pack, already open: a reader of many
    /// consecutive chunks keeps it open), decompressed and checked against its SHA-256.
    func chunk(_ entry: PackEntry, in file: InputFile) throws(BackupError) -> [UInt8] {
        let frame = try read(file, Int(entry.length), at: entry.offset)
        var chunk = [UInt8](repeating: 0, count: Int(entry.rawLength))
        let produced = chunk.withUnsafeMutableBytes { output in
            frame.withUnsafeBytes { input in
                ZSTD_decompress(output.baseAddress, output.count, input.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(produced) == 0, produced == chunk.count else {
            throw damaged("chunk \(entry.sha256) does not decompress")
        }
        guard SHA256.hash(data: chunk).hexString == entry.sha256 else {
            throw damaged("chunk \(entry.sha256) does not match its hash")
        }
        return chunk
    }

    /// Exactly `count` bytes of `file` from `offset`; fewer is a damaged pack.
    private func read(_ file: InputFile, _ count: Int, at offset: Int64) throws(BackupError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        guard try file.readFully(into: buffer, at: offset) == count else {
            throw damaged("it ends before byte \(offset + Int64(count))")
        }
        return [UInt8](buffer)
    }

    private func damaged(_ what: String) -> BackupError {
        .verificationFailed(reason: "pack \(url.lastPathComponent): \(what)")
    }
}
