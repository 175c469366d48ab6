import BackupCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The real `backup-api` binary, started as a child process on a free loopback port.
public final class LiveServer {
    public let port: Int
    public let dataDirectory: String
    public let token: String
    public let process: ChildProcess.Running
    private let session: URLSession

    public init(
        dataDirectory: String, token: String = "live-test-token-0123456789", port: Int? = nil,
        extraArguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        self.port = try port ?? LiveServer.freePort()
        self.dataDirectory = dataDirectory
        self.token = token
        process = try ChildProcess(product: "backup-api").start(
            ["--port", "\(self.port)", "--data-dir", dataDirectory, "--log-level", "info"] + extraArguments,
            environment: environment.merging(["BACKUP_API_TOKEN": token]) { $1 })
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Waits until `/healthz` answers.
    public func waitUntilReady() async throws {
        for _ in 0..<2000 {
            if let (_, response) = try? await request("GET", "/healthz", authorized: false), response.statusCode == 200
            {
                return
            }
            if !process.process.isRunning { throw ServerExited(output: process.wait()) }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ServerExited(output: nil)
    }

    /// Sends a request; returns the body and the response.
    public func request(
        _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:], authorized: Bool = true
    ) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.httpBody = body
        if authorized { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        return (data, response as! HTTPURLResponse)
    }

    /// Decodes a JSON response body in the house format.
    public func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: data)
    }

    /// Polls a backup until no job works on it and the server is idle again.
    public func waitForCompletion(id: String) async throws -> BackupInfo {
        for _ in 0..<6000 {
            let info = try decode(BackupInfo.self, try await request("GET", "/api/backups/\(id)").0)
            let status = String(decoding: try await request("GET", "/api/status").0, as: UTF8.self)
            if !info.status.isActive, status.contains("\"state\":\"ready\"") { return info }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }

    /// Polls a backup until a verification outcome is recorded for it (a verification job's
    /// 202 comes before its outcome).
    public func waitForVerification(id: String) async throws -> VerificationSummary {
        for _ in 0..<6000 {
            let info = try decode(BackupInfo.self, try await request("GET", "/api/backups/\(id)").0)
            if let verification = info.verification { return verification }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }

    /// Starts a backup and waits until it has ended.
    public func backupAndWait() async throws -> BackupInfo {
        let pending = try decode(BackupInfo.self, try await request("POST", "/api/backups").0)
        return try await waitForCompletion(id: pending.id)
    }

    /// Sends SIGTERM and waits for the process to end.
    public func terminate() -> ChildProcess.Result {
        process.signal(SIGTERM)
        return process.wait()
    }

    public struct ServerExited: Error {
        public var output: ChildProcess.Result?
    }

    /// A port that was free a moment ago (bound to port 0 on loopback, then released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

// Every stored property is a `let`; the URLSession is thread-safe and the child process is only
// signalled and waited on, which Foundation's Process allows from any thread. So clients on
// several tasks may share one server.
extension LiveServer: @unchecked Sendable {}
