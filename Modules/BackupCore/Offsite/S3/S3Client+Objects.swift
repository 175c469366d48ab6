import AsyncHTTPClient
import CZlib
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// Stores `bytes` at `key` (PutObject) with `x-amz-meta-*` `metadata`; the body's SHA-256 is
    /// signed and its MD5 sent, so the server refuses bytes that changed on the way.
    public func put(
        key: String, bytes: [UInt8], contentType: String, metadata: [String: String]
    ) async throws(BackupError) {
        let body = ByteBuffer(bytes: bytes)
        let digests = S3Client.digests(of: body)
        try await put(key: key, body: body, digests: digests, contentType: contentType, metadata: metadata)
    }

    /// PutObject of a buffer whose digests are known; checks the answer's ETag where it is an MD5.
    func put(
        key: String, body: ByteBuffer, digests: Digests, contentType: String, metadata: [String: String]
    ) async throws(BackupError) {
        var headers = [(name: "content-type", value: contentType), (name: "content-md5", value: digests.md5Base64)]
        headers += S3Client.metadataHeaders(metadata)
        let request = S3Request(
            method: .PUT, key: key, headers: headers, body: body, payloadHash: digests.sha256Hex, operation: "PutObject"
        )
        _ = try await withRetries { () async throws(S3AttemptFailure) -> Bool in
            try await self.attempt(request, accepting: []) { response throws(S3AttemptFailure) in
                _ = try? await response.body.collect(upTo: 1 << 20)
                try self.checkETag(response.headers, digests: digests, key: key)
                return true
            }
        }
    }

    /// The object's size, ETag, date and metadata, or nil when there is none (HeadObject).
    public func head(key: String) async throws(BackupError) -> S3Object? {
        let response = try await send(S3Request(method: .HEAD, key: key, operation: "HeadObject"), accepting: [404])
        guard response.status != 404 else { return nil }
        var metadata: [String: String] = [:]
        for header in response.headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
        }
        return S3Object(
            key: key, size: Int64(response.headers.first(name: "content-length") ?? "") ?? 0,
            lastModified: S3XML.httpDate(response.headers.first(name: "last-modified")),
            eTag: response.headers.first(name: "etag").map(S3Client.unquoted), metadata: metadata)
    }

    /// The object's bytes, or those of `range` (inclusive offsets, GetObject with `Range`).
    /// For small objects (sidecars, manifests, a bundle's head): large ones go to ``download(key:to:progress:)``.
    public func get(key: String, range: ClosedRange<Int64>? = nil) async throws(BackupError) -> [UInt8] {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append((name: "range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send(S3Request(method: .GET, key: key, headers: headers, operation: "GetObject"))
        if let range, response.status == 200 {
            // A server that ignores Range sends everything: cut the range out ourselves.
            let lower = Int(min(range.lowerBound, Int64(response.body.count)))
            let upper = Int(min(range.upperBound + 1, Int64(response.body.count)))
            return Array(response.body[lower..<upper])
        }
        return response.body
    }

    /// Removes the object; one that does not exist is not an error (DeleteObject).
    public func delete(key: String) async throws(BackupError) {
        _ = try await send(S3Request(method: .DELETE, key: key, operation: "DeleteObject"), accepting: [404])
    }

    /// Every object whose key starts with `prefix`, through all pages (ListObjectsV2), in key order.
    public func list(prefix: String) async throws(BackupError) -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query = [
                (name: "list-type", value: "2"), (name: "prefix", value: prefix),
                (name: "max-keys", value: String(tuning.listPageSize)),
            ]
            if let token { query.append((name: "continuation-token", value: token)) }
            let response = try await send(S3Request(method: .GET, key: nil, query: query, operation: "ListObjectsV2"))
            let document = S3XML(response.body)
            for item in document.elements("Contents") {
                guard let key = item.value("Key") else { continue }
                objects.append(
                    S3Object(
                        key: key, size: Int64(item.value("Size") ?? "") ?? 0,
                        lastModified: S3XML.date(item.value("LastModified")),
                        eTag: item.value("ETag").map(S3Client.unquoted)))
            }
            let truncated = document.value("IsTruncated") == "true"
            token = truncated ? document.value("NextContinuationToken") : nil
            if truncated && token == nil {
                throw .offsite(
                    OffsiteFailure(
                        kind: .server, detail: "a truncated listing of \"\(prefix)\" came without a continuation token")
                )
            }
        } while token != nil
        return objects
    }

    /// `x-amz-meta-<name>` headers, names in lower case.
    static func metadataHeaders(_ metadata: [String: String]) -> [(name: String, value: String)] {
        metadata.sorted { $0.key < $1.key }.map { (name: "x-amz-meta-\($0.key.lowercased())", value: $0.value) }
    }

    static func unquoted(_ eTag: String) -> String {
        eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// A single-part ETag (of a PutObject or an UploadPart) is the body's MD5: one that differs
    /// means the server stored other bytes than were sent. Servers also check the MD5 we send,
    /// but not all do (moto does not). ETags of objects encrypted with KMS or customer keys are
    /// not MD5s, and are left alone.
    func checkETag(_ headers: HTTPHeaders, digests: Digests, key: String) throws(S3AttemptFailure) {
        let encryption = headers.first(name: "x-amz-server-side-encryption")?.lowercased() ?? ""
        guard !encryption.hasPrefix("aws:kms"),
            headers.first(name: "x-amz-server-side-encryption-customer-algorithm") == nil,
            let eTag = headers.first(name: "etag").map(S3Client.unquoted), eTag.count == 32, !eTag.contains("-")
        else { return }
        guard eTag.lowercased() == digests.md5Hex else {
            throw .offsite(
                .integrity, "the server stored other bytes than were sent for \"\(key)\" (its MD5 differs)",
                retryable: true)
        }
    }

    /// The digests a body is sent with.
    struct Digests: Sendable {
        var sha256Hex: String
        var md5Hex: String
        var md5Base64: String
        /// `x-amz-checksum-crc32`: the base64 of the CRC-32 (zlib's) in big-endian order.
        var crc32Base64: String
    }

    /// The CRC-32 of `bytes` continuing `crc` (zlib's, as S3's `CRC32` checksum is).
    static func crc32(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(CZlib.crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    /// A CRC-32 as S3 writes it: four big-endian bytes in base64.
    static func crc32Base64(_ crc: UInt32) -> String {
        Data([UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
            .base64EncodedString()
    }

    /// Hashes `body` (call on a blocking thread for large bodies).
    static func digests(of body: ByteBuffer) -> Digests {
        let view = body.readableBytesView
        let sha =
            view.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(view))
        let md5 = Array(
            view.withContiguousStorageIfAvailable { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
                ?? Insecure.MD5.hash(data: Array(view)))
        let crc = body.withUnsafeReadableBytes { crc32(0, $0) }
        return Digests(
            sha256Hex: sha.hexString, md5Hex: md5.hexString, md5Base64: Data(md5).base64EncodedString(),
            crc32Base64: crc32Base64(crc))
    }
}
