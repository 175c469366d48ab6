import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// `GET /api/backups/{id}/download`: the bundle streamed out of its store in 256 KiB ranges
/// read on NIO's thread pool (constant memory, the cooperative pool never blocks), with
/// `Content-Type` by its codec (its first bytes), `Content-Length`, `ETag` (its SHA-256), `Content-Disposition` and single `Range` requests.
/// A remote-only backup (its bundle only in the off-site bucket) answers 307 to a presigned URL.
/// An incremental backup is exported first (a `.tar.zst` in `.tmp/`, removed once served) and
/// served whole: no ranges (another request would export again).
struct DownloadController<Context: RequestContext> {
    let services: AppServices
    let threadPool: NIOThreadPool = .singleton
    /// The bytes read from the store at a time.
    static var chunkSize: Int64 { 256 * 1024 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("{id}/download", use: download)
    }

    @Sendable func download(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let service = services.service
        // A backup whose bundle is only in the off-site bucket: redirected to a presigned URL.
        let stored = try await service.catalog.async.record(id: id)
        if stored.store == S3Store.storeName, stored.format == .bundle {
            let url = try await BlockingWork.run { () async throws(BackupError) in
                try await service.presignedDownload(of: stored)
            }
            return Response(
                status: .temporaryRedirect,
                headers: [.location: url.absoluteString, .cacheControl: "private, no-store"])
        }
        let bundle = try await BlockingWork.run { () throws(BackupError) in try service.downloadableBundle(id: id) }
        let size = bundle.sizeBytes
        var headers: HTTPFields = [
            .contentType: bundle.contentType,
            .eTag: "\"\(bundle.sha256 ?? "")\"",
            .contentDisposition: "attachment; filename=\"\(bundle.filename)\"",
            .acceptRanges: bundle.isExport ? "none" : "bytes",
            .cacheControl: "private, no-store",
        ]
        let range = bundle.isExport ? .whole : ByteRange.parse(request.headers[.range], size: size)
        switch range {
        case .whole:
            headers[.contentLength] = "\(size)"
            let body = size == 0 ? ResponseBody() : body(of: bundle, range: 0...(size - 1))
            return Response(status: .ok, headers: headers, body: body)
        case .partial(let range):
            headers[.contentLength] = "\(range.count)"
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            return Response(status: .partialContent, headers: headers, body: body(of: bundle, range: range))
        case .unsatisfiable:
            throw RangeNotSatisfiable(size: size)
        }
    }

    /// The bytes of `range`, read from the store chunk by chunk as the client takes them.
    private func body(of bundle: BundleDownload, range: ClosedRange<Int64>) -> ResponseBody {
        let threadPool = threadPool
        return ResponseBody(contentLength: Int(range.count)) { writer in
            // An export made for this download goes once written (or abandoned).
            defer { bundle.close() }
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let length = Int(min(Self.chunkSize, range.upperBound - offset + 1))
                let start = offset
                let bytes = try await threadPool.runIfActive { try bundle.read(offset: start, length: length) }
                try await writer.write(ByteBuffer(bytes: bytes))
                offset += Int64(length)
            }
            try await writer.finish(nil)
        }
    }
}

/// 416 with the `Content-Range: bytes */SIZE` the client needs.
struct RangeNotSatisfiable: HTTPResponseError {
    let size: Int64
    var status: HTTPResponse.Status { .rangeNotSatisfiable }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try APIError(
            status: status, code: "range_not_satisfiable", message: "the range lies outside the file's \(size) bytes"
        ).response(from: request, context: context)
        response.headers[.contentRange] = "bytes */\(size)"
        return response
    }
}

/// A single `Range: bytes=…` header, read against a file's size (RFC 9110 §14).
enum ByteRange: Equatable {
    case whole
    case partial(ClosedRange<Int64>)
    case unsatisfiable

    static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header, header.hasPrefix("bytes="), header.utf8.count <= 100 else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        // Several ranges would need multipart/byteranges; the whole file is a valid answer.
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let first = parts[0].isEmpty ? nil : Int64(parts[0])
        let last = parts[1].isEmpty ? nil : Int64(parts[1])
        if !parts[0].isEmpty && first == nil || !parts[1].isEmpty && last == nil { return .whole }
        switch (first, last) {
        case (let start?, let end?):
            guard start <= end else { return .whole }
            guard start < size else { return .unsatisfiable }
            return .partial(start...min(end, size - 1))
        case (let start?, nil):
            guard start < size else { return .unsatisfiable }
            return .partial(start...(size - 1))
        case (nil, let suffix?):
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        case (nil, nil):
            return .whole
        }
    }
}
