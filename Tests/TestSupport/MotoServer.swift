import BackupCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A real S3-compatible server for tests: moto's server from `.venv`, on a free loopback port,
/// **with signature checking on** (`INITIAL_NO_AUTH_ACTION_COUNT=3`: the first three requests
/// create an IAM user, its access key and an allow-all policy; every later request must be
/// signed by that key, so a wrong secret fails as on AWS). A bucket is created with the key.
///
/// boto3 (`scripts/test/s3_read.py`) is the independent reader of what a test wrote.
public final class MotoServer {
    public let port: Int
    public let region: String
    public let bucket: String
    public let credentials: S3Credentials
    public let process: ChildProcess.Running
    /// With TLS: the PEM of the private CA that signed the server's certificate.
    public let caFile: String?

    /// The repository's root (this file is `Tests/TestSupport/MotoServer.swift`).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var venv: URL { repository.appendingPathComponent(".venv/bin") }

    /// Starts moto and prepares the user, key and bucket. Fails (never skips) when `.venv` lacks
    /// moto: run `make venv` (`make test` does it).
    /// `checksSignatures: false` leaves moto's default (no request is checked): only for what
    /// moto cannot check, a presigned URL (its query-string authentication fails with a 500).
    /// `tlsDirectory`: serve HTTPS with a certificate for 127.0.0.1 signed by a private CA made
    /// there (`scripts/test/make_tls.py`: `ca.pem`, and `other-ca.pem`, a CA that signed nothing).
    public init(
        region: String = "us-east-1", bucket: String = "backup-test-bucket", checksSignatures: Bool = true,
        tlsDirectory: URL? = nil
    ) async throws {
        let server = MotoServer.venv.appendingPathComponent("moto_server")
        guard FileManager.default.isExecutableFile(atPath: server.path) else {
            throw MissingTool(
                message: "\(server.path) is missing: run `make venv` (or `make test`) to install moto[server] and boto3"
            )
        }
        self.region = region
        self.bucket = bucket
        var tlsArguments: [String] = []
        if let tlsDirectory {
            _ = try await MotoServer.python(["make_tls.py", tlsDirectory.path], environment: [:])
            tlsArguments = [
                "-c", tlsDirectory.appendingPathComponent("server.pem").path,
                "-k", tlsDirectory.appendingPathComponent("server-key.pem").path,
            ]
            caFile = tlsDirectory.appendingPathComponent("ca.pem").path
        } else {
            caFile = nil
        }
        // A free port can be taken by another test's server before moto binds it: then moto
        // says so and exits, and another port is tried (a full `make test` once failed there).
        var attempts = 0
        var started: (port: Int, process: ChildProcess.Running)?
        while started == nil {
            let candidate = try LiveServer.freePort()
            let running = try ChildProcess(executablePath: server.path).start(
                ["-H", "127.0.0.1", "-p", "\(candidate)"] + tlsArguments,
                environment: checksSignatures ? ["INITIAL_NO_AUTH_ACTION_COUNT": "3"] : [:])
            do {
                if tlsDirectory != nil {
                    try await MotoServer.waitForListener(port: candidate, process: running)
                } else {
                    try await MotoServer.waitForAnswer(
                        url: URL(string: "http://127.0.0.1:\(candidate)/moto-api/")!, process: running)
                }
                started = (candidate, running)
            } catch let error as MissingTool where error.message.contains("Address already in use") && attempts < 3 {
                attempts += 1
            }
        }
        (port, process) = (started!.port, started!.process)
        let setup = try await MotoServer.python(
            ["moto_setup.py", "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)", region, bucket],
            environment: caFile.map { ["AWS_CA_BUNDLE": $0] } ?? [:])
        let keys = try JSONSerialization.jsonObject(with: Data(setup.utf8)) as? [String: String] ?? [:]
        credentials = S3Credentials(
            accessKeyID: keys["access_key_id"] ?? "", secretAccessKey: keys["secret_access_key"] ?? "")
    }

    public var endpoint: URL { URL(string: "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)")! }

    /// The bucket, path-style (what a loopback endpoint needs), with the private CA under TLS.
    public var location: S3Location {
        S3Location(endpoint: endpoint, region: region, bucket: bucket, pathStyle: true, caFile: caFile)
    }

    /// Kills the server.
    public func stop() {
        guard process.process.isRunning else { return }
        process.signal(SIGKILL)
        _ = process.wait()
    }

    deinit { stop() }

    /// What boto3 reads at `key`.
    public struct Read: Decodable, Sendable {
        public var size: Int64
        public var sha256: String
        public var metadata: [String: String]
        public var content_type: String?
    }

    /// Reads the object with boto3 (the independent reader): size, SHA-256, metadata.
    public func read(key: String) async throws -> Read {
        try await JSONDecoder().decode(Read.self, from: Data(boto3(["object", key]).utf8))
    }

    /// The keys boto3 lists under `prefix`.
    public func keys(prefix: String) async throws -> [String] {
        struct Listing: Decodable { var keys: [String] }
        return try await JSONDecoder().decode(Listing.self, from: Data(boto3(["list", prefix]).utf8)).keys
    }

    /// The multipart uploads boto3 sees in the bucket (key, upload id).
    public func multipartUploads() async throws -> [(key: String, uploadID: String)] {
        struct Upload: Decodable {
            var key: String
            var upload_id: String
        }
        struct Listing: Decodable { var uploads: [Upload] }
        return try await JSONDecoder().decode(Listing.self, from: Data(boto3(["uploads"]).utf8)).uploads
            .map { (key: $0.key, uploadID: $0.upload_id) }
    }

    /// The CRC32 the server keeps for `key` (nil when none, without a "-N" suffix), and the
    /// composite CRC32 boto3's side computes from the object's bytes in parts of `partSize`.
    public func crc32(key: String, partSize: Int) async throws -> (stored: String?, expected: String, parts: Int) {
        struct Checksum: Decodable {
            var stored: String?
            var expected: String
            var parts: Int
        }
        let checksum = try await JSONDecoder().decode(
            Checksum.self, from: Data(boto3(["checksum", key, "\(partSize)"]).utf8))
        return (checksum.stored, checksum.expected, checksum.parts)
    }

    /// boto3's presigned GetObject URL for `key` (the independent signer).
    public func presignedURL(key: String, expires: Int) async throws -> URL {
        struct Presigned: Decodable { var url: String }
        let url = try await JSONDecoder().decode(
            Presigned.self, from: Data(boto3(["presign", key, "\(expires)"]).utf8)
        ).url
        return URL(string: url)!
    }

    private func boto3(_ arguments: [String]) async throws -> String {
        try await MotoServer.python(
            ["s3_read.py", endpoint.absoluteString, region, bucket] + arguments,
            environment: [
                "AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            ].merging(caFile.map { ["AWS_CA_BUNDLE": $0] } ?? [:]) { $1 })
    }

    /// Runs a script of `scripts/test/` with the venv's Python; returns its standard output.
    /// The child runs to its end on a thread of its own, never blocking the cooperative pool
    /// (other suites' requests run there meanwhile).
    static func python(_ arguments: [String], environment: [String: String]) async throws -> String {
        let script = repository.appendingPathComponent("scripts/test/\(arguments[0])").path
        let python = venv.appendingPathComponent("python").path
        let result = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try ChildProcess(executablePath: python).run(
                            [script] + arguments.dropFirst(), environment: environment)
                    })
            }
        }
        guard result.status == 0 else {
            throw MissingTool(message: "\(arguments[0]) failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
        return result.stdout
    }

    /// Polls `url` until it answers (any status) or the process exits.
    static func waitForAnswer(url: URL, process: ChildProcess.Running) async throws {
        let session = URLSession(configuration: .ephemeral)
        for _ in 0..<600 {
            if (try? await session.data(from: url)) != nil { return }
            guard process.process.isRunning else {
                let output = process.wait()
                throw MissingTool(message: "\(url) did not start: \(output.stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw MissingTool(message: "\(url) did not answer within 30 s")
    }

    /// Polls until something accepts TCP connections on `port` or the process exits.
    static func waitForListener(port: Int, process: ChildProcess.Running) async throws {
        for _ in 0..<600 {
            let connected = acceptsConnections(port: port)
            if connected { return }
            guard process.process.isRunning else {
                throw MissingTool(message: "port \(port) did not open: \(process.wait().stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw MissingTool(message: "port \(port) did not open within 30 s")
    }

    /// A tool the tests need is missing or failed.
    public struct MissingTool: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// A fault-injecting HTTP proxy (`scripts/test/fault_proxy.py`) in front of a ``MotoServer``:
/// a rule answers 500, stalls, or corrupts the body of the requests it matches, a set number of
/// times; everything else passes through unchanged.
public final class FaultProxy {
    public struct Rule: Encodable, Sendable {
        public enum Action: String, Encodable, Sendable {
            case internalError = "500"
            case stall
            case corrupt
            /// 400 InvalidArgument "Unsupported header '<header>'…", as Backblaze B2 answers.
            case reject
            /// Checks `x-amz-checksum-crc32` against the body as AWS does (400 BadDigest).
            case crc32
            /// Forwards unchanged and logs `fault log METHOD PATH range=RANGE`: requests counted.
            case log
        }

        public var method: String?
        /// A regular expression searched in the request's path and query.
        public var match: String
        /// A header the request must carry to match.
        public var header: String?
        /// A header the request must not carry to match (`range`: whole-object GETs only).
        public var without: String?
        public var action: Action
        public var times: Int
        /// How long a stall lasts.
        public var seconds: Int

        public init(
            method: String? = nil, match: String, header: String? = nil, action: Action, times: Int = 1,
            seconds: Int = 30, without: String? = nil
        ) {
            self.without = without
            self.method = method
            self.match = match
            self.header = header
            self.action = action
            self.times = times
            self.seconds = seconds
        }
    }

    public let port: Int
    public let process: ChildProcess.Running

    public init(before server: MotoServer, rules: [Rule]) async throws {
        port = try LiveServer.freePort()
        let rulesJSON = String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
        process = try ChildProcess(executablePath: MotoServer.venv.appendingPathComponent("python").path).start(
            [
                MotoServer.repository.appendingPathComponent("scripts/test/fault_proxy.py").path, "\(port)",
                "\(server.port)", rulesJSON,
            ])
        try await MotoServer.waitForAnswer(url: URL(string: "http://127.0.0.1:\(port)/moto-api/")!, process: process)
    }

    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// The faults injected so far, one line each (`fault 500 PUT /bucket/key?partNumber=2…`).
    public func stop() -> [String] {
        if process.process.isRunning { process.signal(SIGKILL) }
        return process.wait().stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("fault ") }
    }

    deinit { _ = stop() }
}
