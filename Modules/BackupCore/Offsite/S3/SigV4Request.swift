import Crypto

/// A request as AWS Signature V4 sees it, before it is signed.
///
/// Everything is given decoded (the path `/a b/ሴ`, the query `("max-keys", "2")`); the signer
/// encodes it once, the same way the URL is built (see ``SigV4Encoding``).
struct SigV4Request: Sendable, Equatable {
    /// `GET`, `PUT`, `POST`, `HEAD`, `DELETE`.
    var method: String
    /// The decoded path, starting with `/`.
    var path: String
    /// Decoded query names and values, in any order (the signer sorts them).
    var query: [(name: String, value: String)]
    /// The headers to sign (names in any case); a repeated name keeps every value, in order.
    var headers: [(name: String, value: String)]
    /// The hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    var payloadHash: String

    /// The payload hash that leaves the body out of the signature (presigned URLs, streamed bodies).
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    static func == (lhs: SigV4Request, rhs: SigV4Request) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.payloadHash == rhs.payloadHash
            && lhs.query.elementsEqual(rhs.query, by: { $0 == $1 })
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }

    /// The hex SHA-256 of a body, as `x-amz-content-sha256` and the canonical request carry it.
    static func hash(_ body: [UInt8]) -> String {
        SHA256.hash(data: body).hexString
    }

    /// The path as it goes on the wire.
    var encodedPath: String { SigV4Encoding.encodePath(path) }

    /// The query as it goes on the wire, in the canonical (sorted) order.
    var encodedQuery: String { SigV4Request.canonicalQuery(query) }

    static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        items.map { (SigV4Encoding.encode($0.name), SigV4Encoding.encode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}
