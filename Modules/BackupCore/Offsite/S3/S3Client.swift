import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A client of one S3-compatible bucket (AWS S3, Backblaze B2, Cloudflare R2, MinIO, Wasabi,
/// Garage), on AsyncHTTPClient with our own AWS Signature V4 (``SigV4Signer``).
///
/// Every method is async and does its file work on ``BlockingWork``'s threads, so callers on
/// the cooperative pool may await it directly. Failures are ``BackupError/offsite(_:)`` with a
/// kind that names what failed; transient ones (5xx, 429, 408, timeouts, dropped connections)
/// are retried per ``S3RetryPolicy``. Call ``shutdown()`` when done.
public final class S3Client: Sendable {
    /// Sizes and clocks that tests turn down; the defaults are the product's.
    struct Tuning: Sendable {
        /// Files of at least this size go up as a multipart upload.
        var multipartThreshold: Int64 = 16 << 20
        /// The size of each part (S3 allows 10,000 parts: larger files get larger parts).
        var partSize: Int64 = 16 << 20
        /// Parts uploaded at the same time (each streamed from the file: memory is a chunk each).
        var partsInFlight = 4
        /// `max-keys` of one ListObjectsV2 page (S3's own limit is 1,000).
        var listPageSize = 1000
        /// The clock the signatures are dated by.
        var now: @Sendable () -> Date = { Date() }
        /// Host names resolved to fixed addresses (a virtual-hosted bucket on loopback in tests).
        var dnsOverride: [String: String] = [:]
    }

    let location: S3Location
    let signer: SigV4Signer
    let retry: S3RetryPolicy
    let timeouts: S3Timeouts
    let tuning: Tuning
    let http: HTTPClient
    let hostHeader: String
    /// Set once the server has refused S3's checksum headers (Backblaze B2 and some others do):
    /// this client's later multipart uploads go without them (``S3Request/carriesChecksums``).
    let checksumsRefused = Mutex(false)

    /// A client of `location`'s bucket signing with `credentials`. Throws when the endpoint is
    /// not an http(s) URL or `location.caFile` cannot be read.
    public convenience init(
        location: S3Location, credentials: S3Credentials, retry: S3RetryPolicy = .standard,
        timeouts: S3Timeouts = .standard
    ) throws(BackupError) {
        try self.init(location: location, credentials: credentials, retry: retry, timeouts: timeouts, tuning: Tuning())
    }

    init(
        location: S3Location, credentials: S3Credentials, retry: S3RetryPolicy, timeouts: S3Timeouts, tuning: Tuning
    ) throws(BackupError) {
        self.location = location
        self.signer = SigV4Signer(credentials: credentials, region: location.region)
        self.retry = retry
        self.timeouts = timeouts
        self.tuning = tuning
        hostHeader = try location.hostHeader()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = location.caFile, !caFile.isEmpty {
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            } catch {
                throw .offsite(
                    OffsiteFailure(kind: .tls, detail: "cannot read a PEM certificate from \(caFile): \(error)"))
            }
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: timeouts.connect.timeAmount, read: timeouts.idle.timeAmount))
        // Our own retries decide; the pool must report a refused connection at once.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.write = timeouts.idle.timeAmount
        configuration.decompression = .disabled
        configuration.dnsOverride = tuning.dnsOverride
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async {
        try? await http.shutdown()
    }

    deinit {
        // A client dropped without `shutdown()` still closes its connections (AsyncHTTPClient
        // insists on a shutdown before it is released): the task keeps it alive until then.
        let http = self.http
        Task { try? await http.shutdown() }
    }

    var bucket: String { location.bucket }

    /// The host named in errors: the endpoint's, without the bucket.
    var endpointHost: String { location.endpoint.host ?? location.endpoint.absoluteString }
}

/// A request before signing.
struct S3Request: Sendable {
    var method: HTTPMethod
    var key: String?
    var query: [(name: String, value: String)] = []
    /// Headers to send and sign besides `host` and the `x-amz-*` ones the signer adds.
    var headers: [(name: String, value: String)] = []
    var body: ByteBuffer?
    /// A region of a file sent as the body, streamed (a multipart upload's part); `payloadHash`
    /// must then be given.
    var filePart: S3FilePart?
    /// The hex SHA-256 of the body (computed when nil).
    var payloadHash: String?
    /// Whether it sends S3's additional-checksum headers (`x-amz-checksum-*`), which not every
    /// S3-compatible server accepts: a refusal is remembered (``S3Client/checksumsRefused``).
    var carriesChecksums = false
    /// `PutObject`, `UploadPart`: for messages.
    var operation: String
}

/// A finished answer with its (small) body.
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

extension S3Client {
    /// The largest answer body read into memory (listings, errors, small objects).
    static let bodyLimit = 256 << 20

    /// Sends `request` with retries; a non-2xx answer (except those in `accepting`) throws.
    func send(_ request: S3Request, accepting: Set<Int> = []) async throws(BackupError) -> S3Response {
        try await withRetries { () async throws(S3AttemptFailure) -> S3Response in
            try await self.attempt(request, accepting: accepting) { response throws(S3AttemptFailure) in
                do {
                    let body = try await response.body.collect(upTo: S3Client.bodyLimit)
                    return S3Response(
                        status: Int(response.status.code), headers: response.headers,
                        body: Array(body.readableBytesView))
                } catch {
                    throw S3Failures.transport(error, host: self.endpointHost, timeouts: self.timeouts)
                }
            }
        }
    }

    /// Runs `body` until it succeeds, fails for good, or the policy's tries are spent.
    func withRetries<T: Sendable>(
        _ body: () async throws(S3AttemptFailure) -> T
    ) async throws(BackupError) -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                if Task.isCancelled { throw .cancelled }
                guard error.retryable, attempt < retry.attempts else { throw error.error }
                do {
                    try await retry.sleep(retry.delay(afterAttempt: attempt, random: Double.random(in: 0..<1)))
                } catch {
                    throw .cancelled
                }
                attempt += 1
            }
        }
    }

    /// One try: signs and sends `request`; a 2xx (or accepted) answer goes to `handle`, any other
    /// is read and mapped.
    func attempt<T: Sendable>(
        _ request: S3Request, accepting: Set<Int>,
        handle: (HTTPClientResponse) async throws(S3AttemptFailure) -> T
    ) async throws(S3AttemptFailure) -> T {
        let prepared: HTTPClientRequest
        do {
            prepared = try prepare(request)
        } catch {
            throw S3AttemptFailure(error: error, retryable: false)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(prepared, timeout: .hours(24))
        } catch {
            throw S3Failures.transport(error, host: endpointHost, timeouts: timeouts)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) || accepting.contains(status) else {
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { Array($0.readableBytesView) } ?? []
            if request.carriesChecksums, S3Failures.refusesChecksums(status: status, body: body) {
                checksumsRefused.withLock { $0 = true }
                throw .offsite(
                    .server,
                    "\(request.operation) of \"\(request.key ?? "")\": the server does not accept S3's checksum "
                        + "headers (HTTP \(status)); sending without them")
            }
            throw S3Failures.response(
                status: status, body: body, headers: response.headers, bucket: bucket, region: location.region,
                key: request.key, operation: request.operation, now: tuning.now())
        }
        return try await handle(response)
    }

    /// The signed HTTP request.
    func prepare(_ request: S3Request) throws(BackupError) -> HTTPClientRequest {
        let path = location.path(key: request.key)
        let payloadHash =
            request.payloadHash
            ?? SHA256.hash(data: request.body.map { Array($0.readableBytesView) } ?? []).hexString
        var headers = [(name: "host", value: hostHeader)] + request.headers
        let signed = signer.signHeaders(
            SigV4Request(
                method: request.method.rawValue, path: path, query: request.query, headers: headers,
                payloadHash: payloadHash),
            date: tuning.now())
        headers += signed.headers.map { (name: $0.name, value: $0.value) }
        let url = try location.url(path: path, encodedQuery: SigV4Request.canonicalQuery(request.query))
        var prepared = HTTPClientRequest(url: url.absoluteString)
        prepared.method = request.method
        for (name, value) in headers {
            prepared.headers.add(name: name, value: value)
        }
        if let part = request.filePart {
            prepared.body = .stream(part.chunks, length: .known(Int64(part.count)))
        } else if let body = request.body {
            prepared.body = .bytes(body)
        } else if request.method == .PUT || request.method == .POST {
            prepared.body = .bytes(ByteBuffer())
        }
        return prepared
    }

    /// `prefix/name`, or `name` for the bucket's root.
    static func key(prefix: String, name: String) -> String {
        prefix.isEmpty ? name : "\(prefix)/\(name)"
    }
}

extension Duration {
    /// The same span for NIO.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
