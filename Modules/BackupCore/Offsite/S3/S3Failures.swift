import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One failed try: the error for the operator, and whether another try may succeed.
struct S3AttemptFailure: Error {
    var error: BackupError
    var retryable: Bool

    static func offsite(_ kind: OffsiteFailure.Kind, _ detail: String, retryable: Bool = false) -> S3AttemptFailure {
        S3AttemptFailure(error: .offsite(OffsiteFailure(kind: kind, detail: detail)), retryable: retryable)
    }
}

/// Turns what the server or the network said into an ``OffsiteFailure`` a person can act on.
///
/// Nothing here quotes a request's signature material: the server's message is only quoted for
/// codes that carry no secret-derived text.
enum S3Failures {
    /// Whether a non-2xx answer to a request with `x-amz-checksum-*` headers refuses those
    /// headers (Backblaze B2: 400 "Unsupported header 'x-amz-checksum-algorithm' …"; others
    /// answer 501 NotImplemented), rather than failing for another reason.
    static func refusesChecksums(status: Int, body: [UInt8]) -> Bool {
        guard status == 400 || status == 501 else { return false }
        let document = S3XML(body)
        let code = document.value("Code") ?? ""
        let said = (code + " " + (document.value("Message") ?? "")).lowercased()
        return code == "NotImplemented" || said.contains("checksum")
    }

    /// A non-2xx answer. `body` is the (possibly empty) error document.
    static func response(
        status: Int, body: [UInt8], headers: HTTPHeaders, bucket: String, region: String, key: String?,
        operation: String, now: Date
    ) -> S3AttemptFailure {
        let document = S3XML(body)
        let code = document.value("Code")
        let serverMessage = document.value("Message").map { String($0.prefix(200)) }
        let named = code.map { " (\($0))" } ?? " (HTTP \(status))"
        let object = key.map { "\"\($0)\"" } ?? "bucket \"\(bucket)\""
        let retryable =
            status >= 500 || status == 429 || status == 408 || code == "RequestTimeout"
            || code == "SlowDown"
        switch code {
        case "SignatureDoesNotMatch":
            return .offsite(.signature, "the signature does not match\(named): check offsite.secret_access_key")
        case "InvalidAccessKeyId", "InvalidToken", "ExpiredToken":
            return .offsite(
                .accessKey, "the server does not accept the access key id\(named): check offsite.access_key_id")
        case "RequestTimeTooSkewed":
            return .offsite(
                .clockSkew,
                skewDetail(headers: headers, document: document, now: now) + named
                    + ": set this machine's clock (NTP)")
        case "NoSuchBucket":
            return .offsite(.bucket, "bucket \"\(bucket)\" does not exist\(named)")
        case "InvalidBucketName":
            return .offsite(.bucket, "\"\(bucket)\" is not a valid bucket name\(named)")
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            let endpoint = document.value("Endpoint").map { "; the server names the endpoint \($0)" } ?? ""
            return .offsite(
                .bucket,
                "bucket \"\(bucket)\" is not reachable with region \"\(region)\"\(named): check "
                    + "offsite.region and offsite.endpoint\(endpoint)")
        case "AccessDenied", "AllAccessDisabled", "AccountProblem":
            return .offsite(
                .permission, "access denied to \(operation) on \(object)\(named): the key lacks the permission")
        case "NoSuchKey", "NoSuchUpload":
            return .offsite(.notFound, "\(object) does not exist\(named)")
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum", "IncompleteBody":
            return .offsite(
                .integrity, "the server received other bytes than were sent for \(object)\(named)", retryable: true)
        default:
            break
        }
        switch status {
        case 301, 307:
            return .offsite(
                .bucket, "bucket \"\(bucket)\" is not reachable with region \"\(region)\"\(named): check offsite.region"
            )
        case 403:
            return .offsite(
                .permission, "the server refused \(operation) on \(object)\(named): check the key and its permissions")
        case 404:
            return .offsite(.notFound, "\(object) does not exist\(named)")
        default:
            let said = serverMessage.map { ": \($0)" } ?? ""
            return .offsite(
                .server, "the server answered \(status) to \(operation) on \(object)\(named)\(said)",
                retryable: retryable)
        }
    }

    /// "the clock differs from the server's by 17 min", from the answer's `Date` or `ServerTime`.
    static func skewDetail(headers: HTTPHeaders, document: S3XML, now: Date) -> String {
        let server = S3XML.httpDate(headers.first(name: "date")) ?? S3XML.date(document.value("ServerTime"))
        guard let server else { return "the clock differs too much from the server's" }
        let seconds = Int(abs(server.timeIntervalSince(now)).rounded())
        let amount = seconds >= 120 ? "\(seconds / 60) min" : "\(seconds) s"
        let direction = now > server ? "ahead of" : "behind"
        return "the clock differs from the server's by \(amount) (this machine is \(direction) it)"
    }

    /// An error of the network or TLS layer (no answer came).
    static func transport(_ error: any Error, host: String, timeouts: S3Timeouts) -> S3AttemptFailure {
        if error is CancellationError || Task.isCancelled {
            return S3AttemptFailure(error: .cancelled, retryable: false)
        }
        if let failure = error as? S3AttemptFailure { return failure }
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled:
                return S3AttemptFailure(error: .cancelled, retryable: false)
            case .connectTimeout, .tlsHandshakeTimeout:
                return .offsite(
                    .timeout, "\(host) did not accept a connection within \(timeouts.connect)", retryable: true)
            case .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return .offsite(.timeout, "\(host) did not answer within \(timeouts.idle)", retryable: true)
            case .remoteConnectionClosed:
                return .offsite(.connection, "\(host) closed the connection", retryable: true)
            default:
                return .offsite(.connection, "the request to \(host) failed: \(error)", retryable: true)
            }
        }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return .offsite(.dns, "the host name \(host) does not resolve: check offsite.endpoint")
            }
            return .offsite(
                .connection, "nothing answers at \(host):\(error.port) (connection refused)", retryable: true)
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return .offsite(
                .tls,
                "the TLS handshake with \(host) failed (\(error)): check the endpoint's certificate or offsite.ca_file")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED:
                return .offsite(.connection, "nothing answers at \(host) (connection refused)", retryable: true)
            case ETIMEDOUT:
                return .offsite(.timeout, "\(host) did not answer (timed out)", retryable: true)
            default:
                return .offsite(.connection, "the connection to \(host) failed: \(error)", retryable: true)
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .offsite(.timeout, "\(host) did not accept a connection within \(timeouts.connect)", retryable: true)
        }
        if error is SocketAddressError {
            return .offsite(.dns, "the host name \(host) does not resolve: check offsite.endpoint")
        }
        let text = String(describing: error)
        if text.contains("SSL") || text.contains("certificate") {
            return .offsite(.tls, "the TLS handshake with \(host) failed (\(text)): check offsite.ca_file")
        }
        return .offsite(.connection, "the connection to \(host) failed: \(text)", retryable: true)
    }
}
