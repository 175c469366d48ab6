import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

extension S3Client {
    /// Streams a local file to `key`: PutObject below the multipart threshold, else a multipart
    /// upload (parts of 16 MiB or more, four in flight, each part's MD5 and CRC32 sent for the
    /// server to check, its SHA-256 signed, and its ETag checked). Parts are streamed from the
    /// file: memory stays at a chunk per part in flight. On any failure or cancellation the
    /// multipart upload is aborted. A server that refuses the CRC32 headers gets the whole upload
    /// again without them (then `progress` starts again from 0). `progress` hears the bytes sent
    /// so far. Returns the object's size.
    public func upload(
        file: URL, key: String, contentType: String, metadata: [String: String],
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> Int64 {
        let size = try await BlockingWork.run { () throws(BackupError) -> Int64 in try S3Client.size(of: file) }
        if size < tuning.multipartThreshold {
            let (body, digests) = try await BlockingWork.run { () throws(BackupError) -> (ByteBuffer, Digests) in
                let body = try S3Client.read(file, offset: 0, count: Int(size))
                return (body, S3Client.digests(of: body))
            }
            try await put(key: key, body: body, digests: digests, contentType: contentType, metadata: metadata)
            progress(size)
            return size
        }
        let checksums = !checksumsRefused.withLock { $0 }
        do {
            try await multipartUpload(
                file: file, key: key, size: size, contentType: contentType, metadata: metadata, checksums: checksums,
                progress: progress)
        } catch {
            guard checksums, checksumsRefused.withLock({ $0 }), !Task.isCancelled else { throw error }
            try await multipartUpload(
                file: file, key: key, size: size, contentType: contentType, metadata: metadata, checksums: false,
                progress: progress)
        }
        return size
    }

    /// One multipart upload of the whole file, aborted on any failure or cancellation.
    private func multipartUpload(
        file: URL, key: String, size: Int64, contentType: String, metadata: [String: String], checksums: Bool,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) {
        let partSize = S3Client.partSize(fileSize: size, minimum: tuning.partSize)
        let partCount = Int((size + partSize - 1) / partSize)
        let uploadID = try await createMultipartUpload(
            key: key, contentType: contentType, metadata: metadata, checksums: checksums)
        do {
            let parts = try await uploadParts(
                file: file, key: key, uploadID: uploadID, size: size, partSize: partSize, partCount: partCount,
                checksums: checksums, progress: progress)
            try await completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
        } catch {
            await abortQuietly(key: key, uploadID: uploadID)
            throw Task.isCancelled ? .cancelled : error
        }
    }

    /// The part size for a file: `minimum`, or more (in whole MiB) when the file would need more
    /// than S3's 10,000 parts.
    static func partSize(fileSize: Int64, minimum: Int64) -> Int64 {
        let needed = (fileSize + 9_999) / 10_000
        let mebibyte: Int64 = 1 << 20
        return max(minimum, (needed + mebibyte - 1) / mebibyte * mebibyte)
    }

    /// Uploads every part, `partsInFlight` at a time; returns them in part order.
    private func uploadParts(
        file: URL, key: String, uploadID: String, size: Int64, partSize: Int64, partCount: Int, checksums: Bool,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> [UploadedPart] {
        let sent = ByteCounter()
        do {
            return try await withThrowingTaskGroup(of: (Int, UploadedPart).self) { group in
                var next = 1
                var parts = [UploadedPart](repeating: UploadedPart(eTag: ""), count: partCount)
                func addPart() {
                    let number = next
                    next += 1
                    group.addTask {
                        let offset = Int64(number - 1) * partSize
                        let count = Int(min(partSize, size - offset))
                        let part = try await self.uploadPart(
                            file: file, key: key, uploadID: uploadID, number: number, offset: offset, count: count,
                            checksums: checksums)
                        sent.add(Int64(count), reporting: progress)
                        return (number, part)
                    }
                }
                for _ in 0..<min(tuning.partsInFlight, partCount) { addPart() }
                while let (number, part) = try await group.next() {
                    parts[number - 1] = part
                    if next <= partCount { addPart() }
                }
                return parts
            }
        } catch let error as BackupError {
            throw error
        } catch {
            throw Task.isCancelled ? .cancelled : .offsite(OffsiteFailure(kind: .connection, detail: "\(error)"))
        }
    }

    /// Hashes one part of the file (a streaming pass on a blocking thread), then sends it with
    /// retries (UploadPart), streamed from the file again; returns its ETag (and its CRC32 when
    /// the upload declared `checksums`).
    private func uploadPart(
        file: URL, key: String, uploadID: String, number: Int, offset: Int64, count: Int, checksums: Bool
    ) async throws(BackupError) -> UploadedPart {
        let part = S3FilePart(file: file, offset: offset, count: count)
        let digests = try await part.digests()
        var headers = [(name: "content-md5", value: digests.md5Base64)]
        if checksums { headers.append((name: "x-amz-checksum-crc32", value: digests.crc32Base64)) }
        var request = S3Request(
            method: .PUT, key: key,
            query: [(name: "partNumber", value: String(number)), (name: "uploadId", value: uploadID)],
            headers: headers, filePart: part, payloadHash: digests.sha256Hex, operation: "UploadPart")
        request.carriesChecksums = checksums
        return try await withRetries { () async throws(S3AttemptFailure) -> UploadedPart in
            try await self.attempt(request, accepting: []) { response throws(S3AttemptFailure) in
                _ = try? await response.body.collect(upTo: 1 << 20)
                guard let eTag = response.headers.first(name: "etag").map(S3Client.unquoted) else {
                    throw .offsite(.server, "UploadPart \(number) of \"\(key)\" returned no ETag", retryable: true)
                }
                try self.checkETag(response.headers, digests: digests, key: key)
                guard checksums else { return UploadedPart(eTag: eTag) }
                if let stored = response.headers.first(name: "x-amz-checksum-crc32"), stored != digests.crc32Base64 {
                    throw .offsite(
                        .integrity, "the server stored other bytes than were sent for \"\(key)\" (its CRC32 differs)",
                        retryable: true)
                }
                return UploadedPart(eTag: eTag, crc32: digests.crc32Base64)
            }
        }
    }

    static func size(of file: URL) throws(BackupError) -> Int64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            return (attributes[.size] as? NSNumber)?.int64Value ?? 0
        } catch {
            throw FileManager.default.fileExists(atPath: file.path)
                ? .io(path: file.path, reason: "cannot read its size") : .fileNotFound(path: file.path)
        }
    }

    /// `count` bytes of `file` from `offset`, straight into a buffer the request sends as is.
    static func read(_ file: URL, offset: Int64, count: Int) throws(BackupError) -> ByteBuffer {
        let input = try InputFile(reading: file)
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: BackupError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
            do throws(BackupError) {
                return try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: pointer[..<count]), at: offset)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        guard buffer.readableBytes == count else {
            throw .io(path: file.path, reason: "the file became shorter while it was uploaded")
        }
        return buffer
    }
}

/// Bytes done so far, added to from several tasks.
final class ByteCounter: Sendable {
    private let total = Mutex<Int64>(0)

    /// Adds `count` and tells `progress` the new total; under the lock, so the totals it hears
    /// only grow.
    func add(_ count: Int64, reporting progress: (Int64) -> Void) {
        total.withLock {
            $0 += count
            progress($0)
        }
    }
}
