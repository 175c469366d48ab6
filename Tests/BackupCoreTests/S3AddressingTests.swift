import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import BackupCore

/// The parts of the S3 client that need no server: addressing, back-off, error wording.
@Suite("S3 addressing, retries and error wording")
struct S3AddressingTests {
    @Test("virtual-hosted addressing puts the bucket in the host; path style puts it in the path")
    func addressing() throws {
        let virtual = S3Location(
            endpoint: URL(string: "https://s3.eu-west-1.amazonaws.com")!, region: "eu-west-1", bucket: "my-bucket",
            pathStyle: false)
        let path = virtual.path(key: "backups/a b+c.tar.gz")
        #expect(path == "/backups/a b+c.tar.gz")
        #expect(try virtual.hostHeader() == "my-bucket.s3.eu-west-1.amazonaws.com")
        #expect(
            try virtual.url(path: path, encodedQuery: "").absoluteString
                == "https://my-bucket.s3.eu-west-1.amazonaws.com/backups/a%20b%2Bc.tar.gz")

        let local = S3Location(
            endpoint: URL(string: "http://127.0.0.1:9000")!, region: "us-east-1", bucket: "my-bucket", pathStyle: true)
        #expect(try local.hostHeader() == "127.0.0.1:9000")
        #expect(
            try local.url(path: local.path(key: "k"), encodedQuery: "max-keys=2").absoluteString
                == "http://127.0.0.1:9000/my-bucket/k?max-keys=2")

        let bad = S3Location(endpoint: URL(string: "ftp://host")!, region: "r", bucket: "b", pathStyle: true)
        #expect(throws: BackupError.self) { try bad.hostHeader() }
    }

    @Test("back-off doubles up to the cap; jitter stays within the pause")
    func backOff() {
        let policy = S3RetryPolicy(attempts: 6, baseDelay: .milliseconds(250), maxDelay: .seconds(1), jitter: 0)
        #expect(
            (1...4).map { policy.delay(afterAttempt: $0, random: 0.5) } == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(1),
            ])
        let jittered = S3RetryPolicy(attempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: 1)
        #expect(jittered.delay(afterAttempt: 2, random: 0) == .zero)
        #expect(jittered.delay(afterAttempt: 2, random: 0.5) == .seconds(1))
    }

    @Test("the part size grows past 16 MiB only when 10,000 parts would not hold the file")
    func partSize() {
        #expect(S3Client.partSize(fileSize: 200 << 20, minimum: 16 << 20) == 16 << 20)
        #expect(S3Client.partSize(fileSize: 1 << 40, minimum: 16 << 20) == 105 << 20)
    }

    @Test("RequestTimeTooSkewed says by how much the clocks differ, from the server's Date")
    func clockSkew() {
        let now = Date(timeIntervalSince1970: 1_764_115_200)  // 2025-11-26 00:00:00 UTC
        var headers = HTTPHeaders()
        headers.add(name: "Date", value: "Tue, 25 Nov 2025 23:43:00 GMT")
        let body = Array(
            "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>"
                .utf8)
        let failure = S3Failures.response(
            status: 403, body: body, headers: headers, bucket: "b", region: "r", key: "k", operation: "PutObject",
            now: now)
        #expect(!failure.retryable)
        #expect(
            failure.error.message
                == "off-site storage: the clock differs from the server's by 17 min (this machine is ahead of it) "
                + "(RequestTimeTooSkewed): set this machine's clock (NTP)")
        #expect(failure.error.code == "offsite_failed")
    }

    @Test("a part's ETag is checked against its MD5, except where the server encrypts with KMS or customer keys")
    func eTagCheck() async throws {
        let client = try S3Client(
            location: S3Location(
                endpoint: URL(string: "http://127.0.0.1:9")!, region: "us-east-1", bucket: "b", pathStyle: true),
            credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"))
        let digests = S3Client.digests(of: ByteBuffer(string: "part"))
        func headers(_ eTag: String, _ extra: [(String, String)] = []) -> HTTPHeaders {
            HTTPHeaders([("ETag", "\"\(eTag)\"")] + extra)
        }
        #expect(throws: Never.self) { try client.checkETag(headers(digests.md5Hex), digests: digests, key: "k") }
        let other = String(repeating: "0", count: 32)
        #expect(throws: S3AttemptFailure.self) { try client.checkETag(headers(other), digests: digests, key: "k") }
        #expect(throws: Never.self) {
            try client.checkETag(
                headers(other, [("x-amz-server-side-encryption", "aws:kms")]), digests: digests, key: "k")
        }
        #expect(throws: Never.self) {
            try client.checkETag(
                headers(other, [("x-amz-server-side-encryption-customer-algorithm", "AES256")]), digests: digests,
                key: "k")
        }
        #expect(throws: Never.self) { try client.checkETag(headers("\(other)-3"), digests: digests, key: "k") }
        await client.shutdown()
    }

    @Test("which answers are retried: 5xx, 429, 408; never another 4xx")
    func retryable() {
        func retried(_ status: Int, _ code: String? = nil) -> Bool {
            let body = code.map { Array("<Error><Code>\($0)</Code></Error>".utf8) } ?? []
            return S3Failures.response(
                status: status, body: body, headers: HTTPHeaders(), bucket: "b", region: "r", key: nil, operation: "op",
                now: Date()
            ).retryable
        }
        #expect(retried(500, "InternalError"))
        #expect(retried(503, "SlowDown"))
        #expect(retried(429))
        #expect(retried(408))
        #expect(!retried(403, "AccessDenied"))
        #expect(!retried(400, "InvalidArgument"))
        #expect(!retried(404, "NoSuchKey"))
        #expect(!retried(403, "SignatureDoesNotMatch"))
    }
}
