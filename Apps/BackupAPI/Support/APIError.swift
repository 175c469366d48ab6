import BackupCore
import Foundation
import HTTPTypes
import Hummingbird

/// The one error the API answers with: `{"error": {"code", "message", "fields"?}}`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var fields: [String: String]? = nil
    /// The off-site failure's kind (`dns`, `tls`, `signature`, …), only for `offsite_failed`.
    var kind: String? = nil

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var fields: [String: String]?
            var kind: String?
        }
        var error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try Response.json(
            Body(error: .init(code: code, message: message, fields: fields, kind: kind)), status: status)
        if status == .unauthorized {
            response.headers[HTTPField.Name("WWW-Authenticate")!] = "Bearer"
        }
        return response
    }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }

    static let unauthorized = APIError(
        status: .unauthorized, code: "unauthorized", message: "a valid bearer token is required")

    /// A sign-in (`POST /api/session`) with a token that is not this server's.
    static let wrongToken = APIError(status: .unauthorized, code: "wrong_token", message: "wrong token")
}

extension APIError {
    /// The core's errors, mapped to HTTP once.
    init(_ error: BackupError) {
        let status: HTTPResponse.Status
        var fields: [String: String]?
        var kind: String?
        switch error {
        case .backupInProgress, .notCompleted, .backupInUse, .duplicateBackup, .pageSizeMismatch, .cancelled,
            .serverHoldsDataDirectory, .serverAlreadyRunning, .retentionWouldDelete, .databaseLocked,
            .directoryNotConfigured, .pathInTheWay, .sourceKindMismatch:
            status = .conflict
        // The server cannot do it until the tool is installed: not the request's fault.
        case .shuttingDown, .toolMissing, .toolOutdated: status = .serviceUnavailable
        case .notFound, .fileNotFound: status = .notFound
        case .invalidID, .idPrefixTooShort, .ambiguousID, .invalidQuery: status = .badRequest
        case .verificationFailed, .notABundle: status = .unprocessableContent
        case .invalidInput(let problems):
            status = .unprocessableContent
            fields = problems
        case .insufficientSpace, .diskFull:
            status = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .payloadTooLarge: status = .contentTooLarge
        case .sourceUnavailable, .io, .dataDirectoryMissing, .toolFailed: status = .internalServerError
        case .offsite(let failure):
            // The storage behind this server failed, not the request: a bad gateway.
            status = .badGateway
            kind = failure.kind.rawValue
        }
        self.init(status: status, code: error.code, message: error.message, fields: fields, kind: kind)
    }
}

extension Response {
    /// A JSON response in the house encoding.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.backupManager().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    /// Decodes a JSON body of at most `limit` bytes; malformed JSON is 400, wrong types 422, and
    /// so are fields a ``StrictBody`` does not accept.
    mutating func decodeJSON<T: Decodable>(
        _ type: T.Type, limit: Int = 64 * 1024, allowEmpty: Bool = false
    )
        async throws -> T
    {
        var buffer = ByteBuffer()
        for try await chunk in body {
            guard buffer.readableBytes + chunk.readableBytes <= limit else {
                throw APIError(
                    status: .contentTooLarge, code: "payload_too_large",
                    message: "the JSON body is limited to \(limit) bytes")
            }
            var chunk = chunk
            buffer.writeBuffer(&chunk)
        }
        if buffer.readableBytes == 0 && allowEmpty { buffer = ByteBuffer(string: "{}") }
        let data = Data(buffer.readableBytesView)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw APIError.badRequest("invalid_json", "the body must be a JSON object")
        }
        if let strict = T.self as? any StrictBody.Type {
            let problems = strict.fieldProblems(in: object)
            guard problems.isEmpty else { throw BackupError.invalidInput(fields: problems) }
        }
        do {
            return try JSONDecoder.backupManager().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError(
                status: .unprocessableContent, code: BackupError.invalidInput(fields: [:]).code,
                message: "the body has a field of the wrong type", fields: Self.fields(of: error))
        }
    }

    private static func fields(of error: DecodingError) -> [String: String] {
        func path(_ context: DecodingError.Context, _ extra: (any CodingKey)? = nil) -> String {
            (context.codingPath + [extra].compactMap { $0 }).map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return [path(context): "must be \(Self.describe(type))"]
        case .valueNotFound(let type, let context): return [path(context): "must be \(Self.describe(type))"]
        case .keyNotFound(let key, let context): return [path(context, key): "is required"]
        case .dataCorrupted(let context): return [path(context): "has an invalid value"]
        @unknown default: return ["body": "is invalid"]
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is String.Type: "a string"
        default: "a valid value"
        }
    }

    /// A query parameter, or nil.
    func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }

    /// A true/false query parameter (`?dry_run=true`); absent is false.
    func flag(_ name: String) throws(BackupError) -> Bool {
        switch query(name) {
        case nil, "false", "0": false
        case "true", "1": true
        default: throw .invalidQuery(parameter: name, reason: "must be true or false")
        }
    }
}
