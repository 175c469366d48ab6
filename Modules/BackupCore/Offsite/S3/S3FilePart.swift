import Crypto
import Foundation
import NIOCore

/// A region of a local file sent as a request body without holding it in memory: a part of a
/// multipart upload. Its digests come from one streaming pass before the request is signed
/// (``digests()``); the body is read again, chunk by chunk, while it is sent (``chunks``), so
/// a part in flight costs a chunk, not the part.
struct S3FilePart: Sendable {
    /// Bytes read at a time, for hashing and for sending.
    static let chunkSize = 1 << 20

    var file: URL
    var offset: Int64
    var count: Int

    /// The part's SHA-256 (signed), MD5 (`Content-MD5`, and what its ETag must be) and CRC32
    /// (`x-amz-checksum-crc32`), read from the file in chunks on a blocking thread.
    func digests() async throws(BackupError) -> S3Client.Digests {
        let part = self
        return try await BlockingWork.run { () throws(BackupError) -> S3Client.Digests in
            var sha = SHA256()
            var md5 = Insecure.MD5()
            var crc: UInt32 = 0
            var done = 0
            while done < part.count {
                let chunk = try S3Client.read(
                    part.file, offset: part.offset + Int64(done), count: min(Self.chunkSize, part.count - done))
                chunk.withUnsafeReadableBytes { bytes in
                    sha.update(bufferPointer: bytes)
                    md5.update(bufferPointer: bytes)
                    crc = S3Client.crc32(crc, bytes)
                }
                done += chunk.readableBytes
            }
            let md5Bytes = Array(md5.finalize())
            return S3Client.Digests(
                sha256Hex: sha.finalize().hexString, md5Hex: md5Bytes.hexString,
                md5Base64: Data(md5Bytes).base64EncodedString(), crc32Base64: S3Client.crc32Base64(crc))
        }
    }

    /// The part's bytes as request-body chunks, each read on a blocking thread when asked for.
    var chunks: Chunks { Chunks(part: self) }

    struct Chunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let part: S3FilePart

        func makeAsyncIterator() -> Iterator { Iterator(part: part) }

        struct Iterator: AsyncIteratorProtocol {
            let part: S3FilePart
            var done = 0

            mutating func next() async throws -> ByteBuffer? {
                guard done < part.count else { return nil }
                let (file, offset, count) = (
                    part.file, part.offset + Int64(done), Swift.min(S3FilePart.chunkSize, part.count - done)
                )
                let chunk = try await BlockingWork.run { () throws(BackupError) -> ByteBuffer in
                    try S3Client.read(file, offset: offset, count: count)
                }
                done += chunk.readableBytes
                return chunk
            }
        }
    }
}
