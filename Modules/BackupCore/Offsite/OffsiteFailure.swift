/// What went wrong with the off-site storage, in a form the faces can name (the API's
/// `error.kind`, the page's "DNS / TLS / auth / bucket / permission" outcome).
public struct OffsiteFailure: Sendable, Equatable {
    /// The class of failure; the raw value is the API's `kind`.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Off-site copies are enabled but a setting (endpoint, bucket, key, secret) is missing.
        case notConfigured = "not_configured"
        /// The endpoint's host name does not resolve.
        case dns
        /// Nothing answers at the endpoint (refused, reset, unreachable).
        case connection
        /// The endpoint did not answer in time.
        case timeout
        /// The TLS handshake failed: an unknown CA, a wrong host name, an expired certificate.
        case tls
        /// The server computed another signature: the secret access key is wrong.
        case signature
        /// The server does not know the access key id.
        case accessKey = "access_key"
        /// The local clock and the server's differ too much for a signature to be accepted.
        case clockSkew = "clock_skew"
        /// The bucket does not exist, or is in another region.
        case bucket
        /// The key may not do this (AccessDenied).
        case permission
        /// The object (or multipart upload) does not exist.
        case notFound = "not_found"
        /// The server failed (5xx, throttling) or answered something unexpected.
        case server
        /// What arrived differs from what was sent or announced (a checksum, a size).
        case integrity
    }

    public var kind: Kind
    /// A sentence naming what failed and, where it helps, what to check. Never holds a secret.
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
