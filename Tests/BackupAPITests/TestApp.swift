import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport

@testable import BackupAPI

/// Arguments for an application on a temporary data directory, port 0, a known token.
struct TestArguments: AppArguments {
    var host = "127.0.0.1"
    var port = 0
    var dataDir: String
    var database: String? = nil
    var tokenFile: String? = nil
    var logLevel = "error"
    var token: String? = TestArguments.token
    var assetsDir: String? = nil

    static let token = "test-token-0123456789abcdef"
    /// The checkout, which holds `web/` and `i18n/`.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

typealias TestClock = ManualClock

extension HTTPFields {
    static let auth: HTTPFields = [.authorization: "Bearer \(TestArguments.token)"]
}

extension TestResponse {
    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(body.readableBytesView))
    }

    /// The `error.code` of an error response.
    var errorCode: String? {
        struct Body: Decodable {
            struct Detail: Decodable { var code: String }
            var error: Detail
        }
        return try? json(Body.self).error.code
    }

    var errorFields: [String: String]? {
        struct Body: Decodable {
            struct Detail: Decodable { var fields: [String: String]? }
            var error: Detail
        }
        return try? json(Body.self).error.fields
    }
}

struct ListPage: Decodable {
    var items: [BackupInfo]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

/// Polls a backup through the API until no job works on it and the server is idle again
/// (the job has released the lock).
func waitUntilSettled(_ client: some TestClientProtocol, id: String) async throws -> BackupInfo {
    for _ in 0..<3000 {
        let info = try await client.execute(uri: "/api/backups/\(id)", method: .get, headers: .auth) {
            try $0.json(BackupInfo.self)
        }
        let status = try await client.execute(uri: "/api/status", method: .get, headers: .auth)
        if !info.status.isActive, String(buffer: status.body).contains("\"state\":\"ready\"") { return info }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw CancellationError()
}
