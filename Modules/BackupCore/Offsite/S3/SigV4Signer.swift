import Crypto
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): the header form every S3 request carries, and
/// the query form of a presigned URL.
///
/// Proven against the AWS signing test suite (see `Tests/Fixtures/sigv4/`). The secret only ever
/// enters the HMAC key; it is never part of a string this type returns.
struct SigV4Signer: Sendable {
    var credentials: S3Credentials
    var region: String
    var service: String = "s3"

    /// The intermediate steps and the outcome of one signature.
    struct Signed: Sendable, Equatable {
        var canonicalRequest: String
        var stringToSign: String
        var signature: String
        /// Header form: the headers to add to the request (`x-amz-date`, maybe
        /// `x-amz-content-sha256` and `x-amz-security-token`, and `Authorization`).
        /// Query form: empty.
        var headers: [Header]
        /// Query form: the request's own query items followed by the `X-Amz-*` ones and the
        /// signature. Header form: empty.
        var query: [QueryItem]

        struct Header: Sendable, Equatable {
            var name: String
            var value: String
        }

        struct QueryItem: Sendable, Equatable {
            var name: String
            var value: String
        }
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// Signs `request` for an `Authorization` header at `date`. With `contentSHA256Header` (S3
    /// wants it on every request) the payload hash is sent and signed as `x-amz-content-sha256`.
    func signHeaders(_ request: SigV4Request, date: Date, contentSHA256Header: Bool = true) -> Signed {
        let stamp = SigV4Signer.stamps(date)
        var request = request
        request.headers.append((name: "x-amz-date", value: stamp.dateTime))
        if contentSHA256Header {
            request.headers.append((name: "x-amz-content-sha256", value: request.payloadHash))
        }
        if let token = credentials.sessionToken {
            request.headers.append((name: "x-amz-security-token", value: token))
        }
        let (canonical, signedHeaders) = canonicalRequest(request, query: request.query)
        let stringToSign = self.stringToSign(canonical, stamp: stamp)
        let signature = sign(stringToSign, day: stamp.day)
        var added = [Signed.Header]()
        added.append(.init(name: "x-amz-date", value: stamp.dateTime))
        if contentSHA256Header { added.append(.init(name: "x-amz-content-sha256", value: request.payloadHash)) }
        if let token = credentials.sessionToken { added.append(.init(name: "x-amz-security-token", value: token)) }
        added.append(
            .init(
                name: "Authorization",
                value: "\(SigV4Signer.algorithm) Credential=\(credentials.accessKeyID)/\(scope(stamp.day)), "
                    + "SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return Signed(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, headers: added, query: [])
    }

    /// Signs `request` as a presigned URL valid for `expires` seconds from `date`.
    func signQuery(_ request: SigV4Request, date: Date, expires: Int) -> Signed {
        let stamp = SigV4Signer.stamps(date)
        var query = request.query
        query.append((name: "X-Amz-Algorithm", value: SigV4Signer.algorithm))
        query.append((name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope(stamp.day))"))
        query.append((name: "X-Amz-Date", value: stamp.dateTime))
        query.append((name: "X-Amz-Expires", value: String(expires)))
        if let token = credentials.sessionToken { query.append((name: "X-Amz-Security-Token", value: token)) }
        query.append((name: "X-Amz-SignedHeaders", value: SigV4Signer.signedHeaderNames(request.headers)))
        let (canonical, _) = canonicalRequest(request, query: query)
        let stringToSign = self.stringToSign(canonical, stamp: stamp)
        let signature = sign(stringToSign, day: stamp.day)
        query.append((name: "X-Amz-Signature", value: signature))
        return Signed(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, headers: [],
            query: query.map { .init(name: $0.name, value: $0.value) })
    }

    /// The canonical request and the `SignedHeaders` list.
    private func canonicalRequest(
        _ request: SigV4Request, query: [(name: String, value: String)]
    ) -> (String, String) {
        let headers = SigV4Signer.canonicalHeaders(request.headers)
        let block = headers.map { "\($0.name):\($0.value)\n" }.joined()
        let signed = headers.map(\.name).joined(separator: ";")
        let canonical = [
            request.method, request.encodedPath, SigV4Request.canonicalQuery(query), block, signed,
            request.payloadHash,
        ].joined(separator: "\n")
        return (canonical, signed)
    }

    /// Lower-case names, sorted; values trimmed with inner runs of spaces collapsed; a repeated
    /// name's values joined with commas in their order.
    private static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)]
    {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(trim(value))
        }
        return merged.keys.sorted().map { (name: $0, value: merged[$0]!.joined(separator: ",")) }
    }

    private static func signedHeaderNames(_ headers: [(name: String, value: String)]) -> String {
        Set(headers.map { $0.name.lowercased() }).sorted().joined(separator: ";")
    }

    private static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }

    private func scope(_ day: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    private func stringToSign(_ canonicalRequest: String, stamp: (day: String, dateTime: String)) -> String {
        let digest = SHA256.hash(data: Array(canonicalRequest.utf8)).hexString
        return [SigV4Signer.algorithm, stamp.dateTime, scope(stamp.day), digest].joined(separator: "\n")
    }

    private func sign(_ stringToSign: String, day: String) -> String {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    /// `20150830` and `20150830T123600Z` in UTC.
    static func stamps(_ date: Date) -> (day: String, dateTime: String) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let dayStamp = "\(year)\(two(month))\(two(day))"
        let time = "\(two(secondOfDay / 3600))\(two(secondOfDay % 3600 / 60))\(two(secondOfDay % 60))"
        return (dayStamp, "\(dayStamp)T\(time)Z")
    }

    /// Howard Hinnant's days-to-civil algorithm: no calendar or locale involved.
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
