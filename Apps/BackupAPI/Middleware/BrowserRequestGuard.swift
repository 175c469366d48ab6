import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The rules a request authenticated by the web page's session cookie must also follow when it
/// changes something (POST, PUT, PATCH, DELETE), because a browser attaches the cookie to
/// requests that other pages start:
///
/// - it comes from the page's own origin: `Origin` equals this server's scheme://host:port, or,
///   without `Origin`, `Sec-Fetch-Site: same-origin` (neither: refused);
/// - it carries the session's CSRF token in `X-Backup-CSRF`, which a page elsewhere can neither
///   read nor send without a CORS preflight (and CORS stays closed);
/// - its body says what it is: `application/json` (the import: a bundle type, `application/gzip`,
///   `application/zstd` or `application/octet-stream`), so that a "simple"
///   `text/plain` or form request never reaches a handler; a request without a body needs none.
///
/// Refusals are 403 `csrf_rejected` and 415 `unsupported_media_type`. Bearer-token clients are
/// not browsers holding someone's cookie: none of this applies to them.
enum BrowserRequestGuard {
    static let csrfHeader = HTTPField.Name("X-Backup-CSRF")!
    private static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// The body types of `POST /api/backups/import` (see `docs/openapi.yaml`).
    static let bundleMediaTypes: Set<String> = ["application/gzip", "application/zstd", "application/octet-stream"]

    /// Whether `method` changes state (everything but GET, HEAD, OPTIONS).
    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    /// Checks a state-changing request signed in by `session`; returns the request to pass on
    /// (its body guarded when only reading it can tell whether there is one).
    static func check(_ request: Request, session: SessionTickets.Session, tickets: SessionTickets) throws -> Request {
        guard isSameOrigin(request) else {
            throw rejected("the request does not come from this server's page (Origin)")
        }
        guard tickets.checkCSRF(request.headers[csrfHeader], for: session) else {
            throw rejected("the X-Backup-CSRF header is missing or wrong")
        }
        let types = request.uri.path == "/api/backups/import" ? bundleMediaTypes : ["application/json"]
        return try checkContentType(request, accepting: types)
    }

    /// Whether the request comes from a page of this server's own origin.
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else {
            return request.headers[secFetchSite]?.lowercased() == "same-origin"
        }
        guard let expected = ownOrigin(request), let presented = Origin(origin) else { return false }
        return presented == expected
    }

    /// `POST /api/session`: a browser's sign-in comes from the page (when it says where from) and
    /// is JSON.
    static func checkSignIn(_ request: Request) throws -> Request {
        if request.headers[.origin] != nil || request.headers[secFetchSite] != nil {
            guard isSameOrigin(request) else {
                throw rejected("the sign-in does not come from this server's page (Origin)")
            }
        }
        return try checkContentType(request, accepting: ["application/json"])
    }

    /// A body must be declared as one of `types`; a request without a body needs no
    /// Content-Type. When the headers do not tell whether a body follows (chunked), the body is
    /// guarded: its first byte ends the request with 415.
    static func checkContentType(_ request: Request, accepting types: Set<String>) throws -> Request {
        if let contentType = request.headers[.contentType] {
            let mediaType = contentType.split(separator: ";", maxSplits: 1)[0]
                .trimmingCharacters(in: .whitespaces).lowercased()
            guard types.contains(mediaType) else { throw unsupported(types) }
            return request
        }
        if let length = request.headers[.contentLength] {
            guard length.trimmingCharacters(in: .whitespaces) == "0" else { throw unsupported(types) }
            return request
        }
        var request = request
        let body = request.body
        request.body = RequestBody(
            asyncSequence: UndeclaredBody(body: body, error: unsupported(types)))
        return request
    }

    private static func rejected(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "csrf_rejected", message: message)
    }

    private static func unsupported(_ types: Set<String>) -> APIError {
        APIError(
            status: .unsupportedMediaType, code: "unsupported_media_type",
            message: "a body needs Content-Type \(types.sorted().joined(separator: " or "))")
    }

    /// This server's origin as the browser sees it: the Host header, and the scheme a TLS proxy
    /// in front reports (`X-Forwarded-Proto`), else http.
    private static func ownOrigin(_ request: Request) -> Origin? {
        guard let authority = request.head.authority else { return nil }
        let scheme = request.headers[forwardedProto]?.lowercased() ?? "http"
        return Origin(scheme: scheme, authority: authority)
    }

    /// scheme, host and port, with the scheme's default port filled in.
    struct Origin: Equatable {
        var scheme: String
        var host: String
        var port: Int

        init?(_ serialized: String) {
            guard let separator = serialized.range(of: "://") else { return nil }
            let authority = serialized[separator.upperBound...]
            guard !authority.contains("/") else { return nil }
            self.init(scheme: serialized[..<separator.lowerBound].lowercased(), authority: String(authority))
        }

        init?(scheme: String, authority: String) {
            guard ["http", "https"].contains(scheme), !authority.isEmpty, !authority.contains("@") else { return nil }
            self.scheme = scheme
            var host = Substring(authority)
            var port = scheme == "https" ? 443 : 80
            // The port follows the last colon, unless that colon is inside an IPv6 literal.
            if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
                guard let number = Int(host[host.index(after: colon)...]), (1...65535).contains(number) else {
                    return nil
                }
                port = number
                host = host[..<colon]
            }
            guard !host.isEmpty else { return nil }
            self.host = host.lowercased()
            self.port = port
        }
    }
}

/// A body the request did not declare: empty is fine, a first byte is an error.
private struct UndeclaredBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let error: APIError

    struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: RequestBody.AsyncIterator
        let error: APIError

        mutating func next() async throws -> ByteBuffer? {
            while let chunk = try await iterator.next() {
                if chunk.readableBytes > 0 { throw error }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(iterator: body.makeAsyncIterator(), error: error)
    }
}
