import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests to a live server whose answers are all kept, so a test can search every answer and
/// the server's log afterwards for secrets that must never leave it.
public final class RecordedRequests {
    public let server: LiveServer
    private var bodies: [String] = []

    public init(_ server: LiveServer) {
        self.server = server
    }

    /// Sends `json` (if any) with the token; the answer's body (kept) and status.
    public func send(_ method: String, _ path: String, _ json: String? = nil) async throws -> (String, Int) {
        let (data, response) = try await server.request(method, path, body: json.map { Data($0.utf8) })
        let body = String(decoding: data, as: UTF8.self)
        bodies.append(body)
        return (body, response.statusCode)
    }

    /// Stops the server; its whole log, and where any of `secrets` appeared: in an answer or in
    /// the log (empty when nowhere).
    public func stop(searchingFor secrets: [String]) -> (log: String, leaks: [String]) {
        let result = server.terminate()
        let log = result.stdout + result.stderr
        var leaks: [String] = []
        for secret in secrets {
            leaks += bodies.filter { $0.contains(secret) }.map { "a response holds a secret: \($0)" }
            if log.contains(secret) { leaks.append("the log holds a secret") }
        }
        return (log, leaks)
    }
}
