import Foundation

/// Where a bucket is: the endpoint, its region, the bucket's name and how keys are addressed.
public struct S3Location: Sendable, Equatable {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`: scheme, host and port only.
    public var endpoint: URL
    /// `us-east-1`, `eu-central-1`, `auto` (Cloudflare R2): the region the signature names.
    public var region: String
    public var bucket: String
    /// `true`: `endpoint/bucket/key` (MinIO, loopback and IP endpoints); `false`: virtual-hosted,
    /// `bucket.endpoint-host/key` (AWS's default).
    public var pathStyle: Bool
    /// A PEM file of a private CA that signs the endpoint's certificate; TLS verification stays on.
    public var caFile: String?

    public init(endpoint: URL, region: String, bucket: String, pathStyle: Bool, caFile: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.pathStyle = pathStyle
        self.caFile = caFile
    }

    /// The scheme, host (with the bucket in front when virtual-hosted) and port of every request,
    /// or why the endpoint cannot be used.
    func origin() throws(BackupError) -> (scheme: String, host: String, port: Int?) {
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = endpoint.host, !host.isEmpty
        else {
            throw .offsite(
                OffsiteFailure(
                    kind: .notConfigured,
                    detail: "the endpoint \(endpoint.absoluteString.debugDescription) is not an http:// or https:// URL"
                ))
        }
        guard !bucket.isEmpty else {
            throw .offsite(OffsiteFailure(kind: .notConfigured, detail: "no bucket is configured"))
        }
        return (scheme, pathStyle ? host : "\(bucket).\(host)", endpoint.port)
    }

    /// The `Host` header: the host, and the port when it is not the scheme's default.
    func hostHeader() throws(BackupError) -> String {
        let origin = try origin()
        guard let port = origin.port, port != (origin.scheme == "https" ? 443 : 80) else { return origin.host }
        return "\(origin.host):\(port)"
    }

    /// The decoded request path of `key` (nil: the bucket itself).
    func path(key: String?) -> String {
        let key = key ?? ""
        return pathStyle ? "/\(bucket)/\(key)" : "/\(key)"
    }

    /// The full URL of a request: the origin, the encoded path and the encoded query.
    func url(path: String, encodedQuery: String) throws(BackupError) -> URL {
        let origin = try origin()
        var text = "\(origin.scheme)://\(origin.host.contains(":") ? "[\(origin.host)]" : origin.host)"
        if let port = origin.port { text += ":\(port)" }
        text += SigV4Encoding.encodePath(path)
        if !encodedQuery.isEmpty { text += "?\(encodedQuery)" }
        guard let url = URL(string: text) else {
            throw .offsite(OffsiteFailure(kind: .notConfigured, detail: "cannot build a URL from the endpoint"))
        }
        return url
    }
}
