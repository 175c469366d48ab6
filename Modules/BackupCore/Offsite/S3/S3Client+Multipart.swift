import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// Multipart uploads started under `prefix` and neither completed nor aborted
    /// (ListMultipartUploads, all pages).
    public func multipartUploads(prefix: String) async throws(BackupError) -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var markers: (key: String, uploadID: String)?
        repeat {
            var query = [(name: "uploads", value: ""), (name: "prefix", value: prefix)]
            if let markers {
                query.append((name: "key-marker", value: markers.key))
                query.append((name: "upload-id-marker", value: markers.uploadID))
            }
            let response = try await send(
                S3Request(method: .GET, key: nil, query: query, operation: "ListMultipartUploads"))
            let document = S3XML(response.body)
            for item in document.elements("Upload") {
                guard let key = item.value("Key"), let id = item.value("UploadId") else { continue }
                uploads.append(
                    S3MultipartUpload(key: key, uploadID: id, initiated: S3XML.date(item.value("Initiated"))))
            }
            if document.value("IsTruncated") == "true", let key = document.value("NextKeyMarker"),
                let id = document.value("NextUploadIdMarker"), markers.map({ $0 != (key, id) }) ?? true
            {
                markers = (key, id)
            } else {
                markers = nil
            }
        } while markers != nil
        return uploads
    }

    /// Drops a multipart upload and the parts it holds (AbortMultipartUpload); one that is
    /// already gone is not an error.
    public func abort(_ upload: S3MultipartUpload) async throws(BackupError) {
        _ = try await send(
            S3Request(
                method: .DELETE, key: upload.key, query: [(name: "uploadId", value: upload.uploadID)],
                operation: "AbortMultipartUpload"),
            accepting: [404])
    }

    /// Starts a multipart upload (CreateMultipartUpload); returns its id. With `checksums`, the
    /// upload declares CRC32 part checksums (`x-amz-checksum-algorithm`), as the AWS SDKs do by
    /// default: each part is then sent with its CRC32, which the server checks and keeps.
    func createMultipartUpload(
        key: String, contentType: String, metadata: [String: String], checksums: Bool = false
    ) async throws(BackupError) -> String {
        var headers = [(name: "content-type", value: contentType)] + S3Client.metadataHeaders(metadata)
        if checksums { headers.append((name: "x-amz-checksum-algorithm", value: "CRC32")) }
        var request = S3Request(
            method: .POST, key: key, query: [(name: "uploads", value: "")], headers: headers,
            operation: "CreateMultipartUpload")
        request.carriesChecksums = checksums
        let response = try await send(request)
        guard let id = S3XML(response.body).value("UploadId"), !id.isEmpty else {
            throw .offsite(
                OffsiteFailure(kind: .server, detail: "CreateMultipartUpload of \"\(key)\" returned no upload id"))
        }
        return id
    }

    /// Joins the parts (CompleteMultipartUpload), naming each part's ETag and, when the upload
    /// declared them, its CRC32. S3 may answer 200 with an error document.
    func completeMultipartUpload(
        key: String, uploadID: String, parts: [UploadedPart]
    ) async throws(BackupError) {
        var xml = "<CompleteMultipartUpload>"
        for (index, part) in parts.enumerated() {
            let checksum = part.crc32.map { "<ChecksumCRC32>\($0)</ChecksumCRC32>" } ?? ""
            xml +=
                "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\"\(S3XML.escape(part.eTag))\"</ETag>\(checksum)</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let request = S3Request(
            method: .POST, key: key, query: [(name: "uploadId", value: uploadID)],
            headers: [(name: "content-type", value: "application/xml")], body: ByteBuffer(string: xml),
            operation: "CompleteMultipartUpload")
        let response = try await send(request)
        let document = S3XML(response.body)
        if document.value("Code") != nil, document.elements("Error").first != nil {
            throw S3Failures.response(
                status: 500, body: response.body, headers: response.headers, bucket: bucket, region: location.region,
                key: key, operation: "CompleteMultipartUpload", now: tuning.now()
            ).error
        }
    }

    /// A part the server has: its ETag, and the base64 CRC32 it was sent with (nil when the
    /// upload declared no checksums).
    struct UploadedPart: Sendable {
        var eTag: String
        var crc32: String?
    }

    /// Aborts in a task of its own, so a cancelled caller still cleans up; errors are dropped
    /// (a stale upload is found and aborted later by ``multipartUploads(prefix:)``).
    func abortQuietly(key: String, uploadID: String) async {
        let upload = S3MultipartUpload(key: key, uploadID: uploadID, initiated: nil)
        await Task { try? await self.abort(upload) }.value
    }
}
