import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The S3 client against a real S3 server on loopback (moto, signatures checked), with boto3
/// reading back what it wrote.
@Suite("S3 client against moto")
struct S3ClientTests {
    /// Pauses a retry policy asked for, recorded instead of slept.
    final class Pauses: Sendable {
        private let recorded = Mutex<[Duration]>([])
        var all: [Duration] { recorded.withLock { $0 } }

        func policy(attempts: Int) -> S3RetryPolicy {
            S3RetryPolicy(attempts: attempts, baseDelay: .milliseconds(100), maxDelay: .seconds(2), jitter: 0) {
                pause in self.recorded.withLock { $0.append(pause) }
            }
        }
    }

    static func client(
        _ location: S3Location, _ credentials: S3Credentials, retry: S3RetryPolicy = .none,
        timeouts: S3Timeouts = .standard, tuning: S3Client.Tuning = .init()
    ) throws -> S3Client {
        try S3Client(location: location, credentials: credentials, retry: retry, timeouts: timeouts, tuning: tuning)
    }

    /// A file of `size` random bytes (not compressible, no two parts alike).
    static func file(_ directory: TemporaryDirectory, size: Int, name: String = "bundle.tar.gz") throws -> URL {
        let url = directory.url.appendingPathComponent(name)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let output = try FileHandle(forWritingTo: url)
        var left = size
        while left > 0 {
            let chunk = try #require(try random.read(upToCount: min(left, 4 << 20)))
            try output.write(contentsOf: chunk)
            left -= chunk.count
        }
        try output.close()
        try random.close()
        return url
    }

    static func sha256(_ url: URL) throws -> String {
        let result = try ChildProcess(executablePath: "/usr/bin/sha256sum").run([url.path])
        return String(result.stdout.prefix(64))
    }

    static func kind(of error: BackupError) -> OffsiteFailure.Kind? {
        if case .offsite(let failure) = error { return failure.kind }
        return nil
    }

    @Test("put, head, ranged get, list through several pages, delete; boto3 reads what was put")
    func objects() async throws {
        let moto = try await MotoServer()
        var tuning = S3Client.Tuning()
        tuning.listPageSize = 2
        let client = try Self.client(moto.location, moto.credentials, tuning: tuning)
        defer { Task { await client.shutdown() } }

        let body = Array("0123456789abcdef".utf8)
        let metadata = ["backup-id": "0123456789abcdef", "backup-type": "manual", "created-at": "2026-11-26T00:00:00Z"]
        try await client.put(key: "backups/a b/ሴ.txt", bytes: body, contentType: "text/plain", metadata: metadata)
        let read = try await moto.read(key: "backups/a b/ሴ.txt")
        #expect(read.size == 16)
        #expect(read.metadata == metadata)
        #expect(read.content_type == "text/plain")

        let head = try #require(try await client.head(key: "backups/a b/ሴ.txt"))
        #expect(head.size == 16)
        #expect(head.metadata == metadata)
        #expect(head.eTag?.count == 32)
        #expect(try await client.head(key: "backups/none") == nil)
        #expect(try await client.get(key: "backups/a b/ሴ.txt", range: 4...7) == Array("4567".utf8))
        #expect(try await client.get(key: "backups/a b/ሴ.txt", range: nil) == body)

        for index in 0..<5 {
            try await client.put(
                key: "backups/k\(index)", bytes: [UInt8(index)], contentType: "application/octet-stream", metadata: [:])
        }
        try await client.put(key: "elsewhere/x", bytes: [1], contentType: "application/octet-stream", metadata: [:])
        let listed = try await client.list(prefix: "backups/")
        #expect(
            listed.map(\.key) == [
                "backups/a b/ሴ.txt", "backups/k0", "backups/k1", "backups/k2", "backups/k3", "backups/k4",
            ])
        #expect(listed.map(\.key) == (try await moto.keys(prefix: "backups/")))
        #expect(listed.first?.size == 16)
        #expect(listed.allSatisfy { $0.lastModified != nil })

        try await client.delete(key: "backups/k0")
        try await client.delete(key: "backups/k0")  // absent: not an error
        #expect(try await moto.keys(prefix: "backups/k") == ["backups/k1", "backups/k2", "backups/k3", "backups/k4"])
        await #expect(throws: BackupError.self) { _ = try await client.get(key: "backups/k0", range: nil) }
        do {
            _ = try await client.get(key: "backups/k0", range: nil)
        } catch {
            #expect(Self.kind(of: error) == .notFound)
        }
    }

    @Test("a 40 MiB file goes up in 16 MiB parts, boto3 reads the same SHA-256, and it streams back down")
    func multipart() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("s3-multipart")
        let file = try Self.file(directory, size: 40 << 20)
        let client = try Self.client(moto.location, moto.credentials)
        defer { Task { await client.shutdown() } }
        let reported = Mutex<[Int64]>([])
        let size = try await client.upload(
            file: file, key: "backups/big.tar.gz", contentType: "application/gzip", metadata: ["sha256": "x"]
        ) { done in reported.withLock { $0.append(done) } }
        #expect(size == 40 << 20)
        // Parts finish in any order: three reports, growing, ending at the whole size.
        let reports = reported.withLock { $0 }
        #expect(reports.count == 3)
        #expect(reports == reports.sorted())
        #expect(reports.last == 40 << 20)
        let read = try await moto.read(key: "backups/big.tar.gz")
        #expect(read.size == 40 << 20)
        #expect(read.sha256 == (try Self.sha256(file)))
        #expect(read.metadata == ["sha256": "x"])
        let head = try #require(try await client.head(key: "backups/big.tar.gz"))
        #expect(head.eTag?.hasSuffix("-3") == true)
        #expect(try await moto.multipartUploads().isEmpty)

        let copy = directory.url.appendingPathComponent("copy.tar.gz")
        let (downloaded, sha256) = try await client.download(key: "backups/big.tar.gz", to: copy) { _ in }
        #expect(downloaded == 40 << 20)
        #expect(sha256 == read.sha256)
        #expect(try Self.sha256(copy) == read.sha256)
        // The target must not exist: a download never overwrites.
        await #expect(throws: BackupError.self) {
            _ = try await client.download(key: "backups/big.tar.gz", to: copy) { _ in }
        }
    }

    @Test("multipart uploads are listed and aborted; a failed upload aborts its own")
    func abortAndList() async throws {
        let moto = try await MotoServer()
        let client = try Self.client(moto.location, moto.credentials)
        defer { Task { await client.shutdown() } }
        let id = try await client.createMultipartUpload(
            key: "backups/stale.tar.gz", contentType: "application/gzip", metadata: [:])
        let uploads = try await client.multipartUploads(prefix: "backups/")
        #expect(uploads.map(\.key) == ["backups/stale.tar.gz"])
        #expect(uploads.map(\.uploadID) == [id])
        #expect(try await client.multipartUploads(prefix: "other/").isEmpty)
        try await client.abort(uploads[0])
        #expect(try await client.multipartUploads(prefix: "backups/").isEmpty)
        #expect(try await moto.multipartUploads().isEmpty)

        // Part 2 fails every time: the upload fails and leaves no multipart upload behind.
        let proxy = try await FaultProxy(
            before: moto, rules: [.init(method: "PUT", match: "partNumber=2&", action: .internalError, times: 100)])
        let directory = TemporaryDirectory("s3-abort")
        let file = try Self.file(directory, size: 20 << 20)
        let pauses = Pauses()
        var location = moto.location
        location.endpoint = proxy.endpoint
        let failing = try Self.client(location, moto.credentials, retry: pauses.policy(attempts: 3))
        defer { Task { await failing.shutdown() } }
        do {
            _ = try await failing.upload(
                file: file, key: "backups/failing.tar.gz", contentType: "application/gzip", metadata: [:]
            ) { _ in }
            Issue.record("an upload whose part always fails succeeded")
        } catch {
            #expect(Self.kind(of: error) == .server)
            #expect(error.message.contains("500"))
        }
        #expect(pauses.all == [.milliseconds(100), .milliseconds(200)])
        #expect(try await moto.multipartUploads().isEmpty)
        #expect(try await moto.keys(prefix: "backups/failing").isEmpty)
    }

    @Test("S3's CRC32 checksum: zlib's CRC-32 as four big-endian bytes in base64")
    func crc32Encoding() {
        let crc = Array("123456789".utf8).withUnsafeBytes { S3Client.crc32(0, $0) }
        #expect(crc == 0xCBF4_3926)
        #expect(S3Client.crc32Base64(crc) == "y/Q5Jg==")
        #expect(S3Client.crc32Base64(0) == "AAAAAA==")
    }

    @Test("each part carries its CRC32, right by AWS's check; the object keeps the composite CRC32")
    func partChecksums() async throws {
        let moto = try await MotoServer()
        // The proxy checks every part's x-amz-checksum-crc32 against its body, as AWS does.
        let proxy = try await FaultProxy(
            before: moto,
            rules: [
                .init(method: "PUT", match: "partNumber=", header: "x-amz-checksum-crc32", action: .crc32, times: 100)
            ])
        let directory = TemporaryDirectory("s3-crc32")
        let file = try Self.file(directory, size: 20 << 20 + 12345)
        var location = moto.location
        location.endpoint = proxy.endpoint
        let client = try Self.client(location, moto.credentials)
        defer { Task { await client.shutdown() } }
        _ = try await client.upload(
            file: file, key: "backups/crc.tar.gz", contentType: "application/gzip", metadata: [:]
        ) { _ in }
        let verdicts = proxy.stop()
        #expect(verdicts.count == 2)
        #expect(verdicts.allSatisfy { $0.hasPrefix("fault crc32 ok PUT") })
        let checksum = try await moto.crc32(key: "backups/crc.tar.gz", partSize: 16 << 20)
        #expect(checksum.parts == 2)
        #expect(checksum.stored == checksum.expected)
        #expect(try await moto.read(key: "backups/crc.tar.gz").sha256 == (try Self.sha256(file)))
    }

    @Test(
        "a server that refuses the checksum headers (as Backblaze B2 does) gets the upload without them",
        arguments: ["create", "part"])
    func checksumsRefused(refusing: String) async throws {
        let moto = try await MotoServer()
        let rule: FaultProxy.Rule =
            refusing == "create"
            ? .init(method: "POST", match: "uploads", header: "x-amz-checksum-algorithm", action: .reject, times: 100)
            : .init(method: "PUT", match: "partNumber=", header: "x-amz-checksum-crc32", action: .reject, times: 100)
        let proxy = try await FaultProxy(before: moto, rules: [rule])
        let directory = TemporaryDirectory("s3-crc32-refused")
        let file = try Self.file(directory, size: 20 << 20)
        var location = moto.location
        location.endpoint = proxy.endpoint
        let client = try Self.client(location, moto.credentials)
        defer { Task { await client.shutdown() } }
        for key in ["backups/first.tar.gz", "backups/second.tar.gz"] {
            _ = try await client.upload(file: file, key: key, contentType: "application/gzip", metadata: [:]) { _ in }
            #expect(try await moto.read(key: key).sha256 == (try Self.sha256(file)))
            #expect(try await moto.crc32(key: key, partSize: 16 << 20).stored == nil)
        }
        // Refused by the first upload only (up to its parts in flight); the second sent none.
        let refusals = proxy.stop()
        #expect((1...2).contains(refusals.count))
        #expect(refusals.allSatisfy { $0.hasPrefix("fault reject") })
        #expect(try await moto.multipartUploads().isEmpty)
    }

    @Test("a 500 on one part is retried after a back-off and the upload completes")
    func retriedPart() async throws {
        let moto = try await MotoServer()
        let proxy = try await FaultProxy(
            before: moto, rules: [.init(method: "PUT", match: "partNumber=2&", action: .internalError, times: 1)])
        let directory = TemporaryDirectory("s3-retry")
        let file = try Self.file(directory, size: 20 << 20)
        let pauses = Pauses()
        var location = moto.location
        location.endpoint = proxy.endpoint
        let client = try Self.client(location, moto.credentials, retry: pauses.policy(attempts: 4))
        defer { Task { await client.shutdown() } }
        _ = try await client.upload(
            file: file, key: "backups/retried.tar.gz", contentType: "application/gzip", metadata: [:]
        ) { _ in }
        #expect(pauses.all == [.milliseconds(100)])
        #expect(proxy.stop().count == 1)
        #expect(try await moto.read(key: "backups/retried.tar.gz").sha256 == (try Self.sha256(file)))
    }

    @Test("bytes changed on the way are caught by the checksum: sent again, or refused as integrity")
    func corruptedPart() async throws {
        let moto = try await MotoServer()
        let proxy = try await FaultProxy(
            before: moto,
            rules: [
                .init(method: "PUT", match: "partNumber=1&", action: .corrupt, times: 1),
                .init(method: "PUT", match: "always-corrupt", action: .corrupt, times: 100),
            ])
        let directory = TemporaryDirectory("s3-corrupt")
        let file = try Self.file(directory, size: 20 << 20)
        let pauses = Pauses()
        var location = moto.location
        location.endpoint = proxy.endpoint
        let client = try Self.client(location, moto.credentials, retry: pauses.policy(attempts: 3))
        defer { Task { await client.shutdown() } }
        _ = try await client.upload(
            file: file, key: "backups/checked.tar.gz", contentType: "application/gzip", metadata: [:]
        ) { _ in }
        #expect(pauses.all.count == 1)
        #expect(try await moto.read(key: "backups/checked.tar.gz").sha256 == (try Self.sha256(file)))

        do {
            try await client.put(
                key: "backups/always-corrupt", bytes: Array(repeating: 7, count: 1000), contentType: "text/plain",
                metadata: [:])
            Issue.record("a corrupted body was accepted")
        } catch {
            #expect(Self.kind(of: error) == .integrity)
        }
    }

    @Test("a presigned URL is boto3's, signature for signature, and a plain GET fetches the object")
    func presigned() async throws {
        // moto cannot check query-string signatures (it fails with a 500): boto3 is the judge of
        // the signature, a moto without checks shows the URL reaches the object.
        let moto = try await MotoServer()
        let client = try Self.client(moto.location, moto.credentials)
        defer { Task { await client.shutdown() } }
        let key = "backups/backup-20261126-000000-manual-0123456789abcdef.tar.gz"
        let theirs = try await moto.presignedURL(key: key, expires: 300)
        let items = try #require(URLComponents(url: theirs, resolvingAgainstBaseURL: false)?.queryItems)
        let stamp = try #require(items.first { $0.name == "X-Amz-Date" }?.value)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let date = try #require(formatter.date(from: stamp))
        let ours = try client.presignedGet(key: key, expires: .seconds(300), now: date)
        // The same URL: boto3 only orders the query differently (the signature last).
        func parts(_ url: URL) -> [String] {
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
            return [components?.percentEncodedPath ?? ""]
                + (components?.percentEncodedQuery ?? "").split(separator: "&").map(String.init).sorted()
        }
        #expect(parts(ours) == parts(theirs))
        #expect(ours.absoluteString.contains("X-Amz-Signature="))
        #expect(!ours.absoluteString.contains(moto.credentials.secretAccessKey))

        let open = try await MotoServer(checksSignatures: false)
        let reader = try Self.client(open.location, open.credentials)
        defer { Task { await reader.shutdown() } }
        try await reader.put(key: key, bytes: Array("bundle".utf8), contentType: "application/gzip", metadata: [:])
        let url = try reader.presignedGet(key: key, expires: .seconds(300), now: Date())
        let (data, response) = try await URLSession(configuration: .ephemeral).data(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(data == Data("bundle".utf8))
    }

    @Test("a wrong secret, an unknown key id, a missing bucket are named; the probe says which step failed")
    func authFailures() async throws {
        let moto = try await MotoServer()
        let good = try Self.client(moto.location, moto.credentials)
        defer { Task { await good.shutdown() } }
        try await good.probe(prefix: "backups")
        #expect(try await moto.keys(prefix: "backups/").isEmpty)

        let secret = "wrong-secret-0123456789"
        let wrongSecret = try Self.client(
            moto.location, S3Credentials(accessKeyID: moto.credentials.accessKeyID, secretAccessKey: secret))
        defer { Task { await wrongSecret.shutdown() } }
        do {
            try await wrongSecret.probe(prefix: "backups")
            Issue.record("a wrong secret was accepted")
        } catch {
            #expect(Self.kind(of: error) == .signature)
            #expect(error.message.contains("SignatureDoesNotMatch"))
            #expect(error.message.contains("offsite.secret_access_key"))
            #expect(error.message.contains("write test object"))
            #expect(!error.message.contains(secret))
            #expect(!error.message.contains(moto.credentials.secretAccessKey))
        }

        let unknownKey = try Self.client(
            moto.location, S3Credentials(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: secret))
        defer { Task { await unknownKey.shutdown() } }
        do {
            _ = try await unknownKey.list(prefix: "")
            Issue.record("an unknown key id was accepted")
        } catch {
            #expect(Self.kind(of: error) == .accessKey)
            #expect(error.message.contains("InvalidAccessKeyId"))
        }

        var elsewhere = moto.location
        elsewhere.bucket = "no-such-bucket-here"
        let missing = try Self.client(elsewhere, moto.credentials)
        defer { Task { await missing.shutdown() } }
        do {
            try await missing.probe(prefix: "")
            Issue.record("a missing bucket was accepted")
        } catch {
            #expect(Self.kind(of: error) == .bucket)
            #expect(error.message.contains("\"no-such-bucket-here\" does not exist (NoSuchBucket)"))
        }
    }

    @Test("nothing listening: a connection failure, retried, then named")
    func serverDown() async throws {
        let port = try LiveServer.freePort()
        let pauses = Pauses()
        let client = try Self.client(
            S3Location(
                endpoint: URL(string: "http://127.0.0.1:\(port)")!, region: "us-east-1", bucket: "bucket",
                pathStyle: true),
            S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"), retry: pauses.policy(attempts: 2))
        defer { Task { await client.shutdown() } }
        do {
            _ = try await client.head(key: "x")
            Issue.record("no server, yet an answer")
        } catch {
            #expect(Self.kind(of: error) == .connection)
            #expect(error.code == "offsite_failed")
        }
        #expect(pauses.all == [.milliseconds(100)])

        // A host name that does not resolve is named as such, and not retried.
        let unresolved = try Self.client(
            S3Location(
                endpoint: URL(string: "http://backup-test.invalid:9000")!, region: "us-east-1", bucket: "bucket",
                pathStyle: true),
            S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"), retry: pauses.policy(attempts: 2))
        defer { Task { await unresolved.shutdown() } }
        do {
            _ = try await unresolved.head(key: "x")
            Issue.record("an unresolvable host answered")
        } catch {
            #expect(Self.kind(of: error) == .dns)
            #expect(error.message.contains("backup-test.invalid"))
        }
        #expect(pauses.all == [.milliseconds(100)])
    }

    @Test("TLS: verified against offsite.ca_file; an unknown CA or no CA is a tls failure")
    func tls() async throws {
        let directory = TemporaryDirectory("s3-tls")
        let moto = try await MotoServer(tlsDirectory: directory.url)
        let client = try Self.client(moto.location, moto.credentials)
        defer { Task { await client.shutdown() } }
        try await client.probe(prefix: "backups")
        try await client.put(
            key: "backups/over-tls", bytes: [1, 2, 3], contentType: "application/octet-stream", metadata: [:])
        #expect(try await moto.read(key: "backups/over-tls").size == 3)

        for caFile in [nil, directory.url.appendingPathComponent("other-ca.pem").path] {
            var location = moto.location
            location.caFile = caFile
            let untrusting = try Self.client(location, moto.credentials)
            defer { Task { await untrusting.shutdown() } }
            do {
                try await untrusting.probe(prefix: "backups")
                Issue.record("a certificate from an unknown CA was accepted (ca_file \(caFile ?? "none"))")
            } catch {
                #expect(Self.kind(of: error) == .tls)
            }
        }

        var unreadable = moto.location
        unreadable.caFile = directory.url.appendingPathComponent("missing.pem").path
        #expect(throws: BackupError.self) { _ = try Self.client(unreadable, moto.credentials) }
    }

    @Test("cancelling an upload aborts its multipart upload")
    func cancelled() async throws {
        let moto = try await MotoServer()
        let proxy = try await FaultProxy(
            before: moto, rules: [.init(method: "PUT", match: "partNumber=2&", action: .stall, times: 1, seconds: 60)])
        let directory = TemporaryDirectory("s3-cancel")
        let file = try Self.file(directory, size: 40 << 20)
        var location = moto.location
        location.endpoint = proxy.endpoint
        var tuning = S3Client.Tuning()
        tuning.partsInFlight = 1
        let client = try Self.client(location, moto.credentials, tuning: tuning)
        defer { Task { await client.shutdown() } }
        let firstPart = AsyncStream<Void>.makeStream()
        let upload = Task {
            try await client.upload(
                file: file, key: "backups/cancelled.tar.gz", contentType: "application/gzip", metadata: [:]
            ) {
                _ in firstPart.continuation.yield()
            }
        }
        for await _ in firstPart.stream { break }
        // Part 2 is stalled at the proxy now; the multipart upload exists.
        #expect(try await moto.multipartUploads().map(\.key) == ["backups/cancelled.tar.gz"])
        upload.cancel()
        do {
            _ = try await upload.value
            Issue.record("a cancelled upload completed")
        } catch {
            #expect(error as? BackupError == .cancelled)
        }
        #expect(try await moto.multipartUploads().isEmpty)
        #expect(try await moto.keys(prefix: "backups/").isEmpty)
    }

    @Test("virtual-hosted addressing: the bucket in the host name, signed and accepted")
    func virtualHosted() async throws {
        let moto = try await MotoServer()
        let location = S3Location(
            endpoint: URL(string: "http://localhost:\(moto.port)")!, region: moto.region, bucket: moto.bucket,
            pathStyle: false)
        var tuning = S3Client.Tuning()
        tuning.dnsOverride = ["\(moto.bucket).localhost": "127.0.0.1"]
        let client = try Self.client(location, moto.credentials, tuning: tuning)
        defer { Task { await client.shutdown() } }
        try await client.put(
            key: "backups/virtual", bytes: Array("hosted".utf8), contentType: "text/plain", metadata: [:])
        #expect(try await client.list(prefix: "backups/").map(\.key) == ["backups/virtual"])
        #expect(try await client.get(key: "backups/virtual", range: nil) == Array("hosted".utf8))
        // boto3 reads it path-style from the same bucket.
        #expect(try await moto.read(key: "backups/virtual").size == 6)
    }

    @Test("a server that stalls times out within the configured idle time")
    func stalled() async throws {
        let moto = try await MotoServer()
        let proxy = try await FaultProxy(
            before: moto, rules: [.init(method: "GET", match: "slow", action: .stall, times: 5)])
        var location = moto.location
        location.endpoint = proxy.endpoint
        let client = try Self.client(
            location, moto.credentials, timeouts: S3Timeouts(connect: .seconds(5), idle: .seconds(1)))
        defer { Task { await client.shutdown() } }
        let started = ContinuousClock.now
        do {
            _ = try await client.get(key: "slow", range: nil)
            Issue.record("a stalled server answered")
        } catch {
            #expect(Self.kind(of: error) == .timeout)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
