import BackupCore
import Foundation
import Hummingbird

/// `/api/backups`: list, create, show, annotate, delete or cancel, verify, push, stats, download links.
struct BackupsController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(use: list)
            .post(use: create)
            .get("stats", use: stats)
            .get("{id}", use: show)
            .patch("{id}", use: annotate)
            .delete("{id}", use: delete)
            .post("{id}/verify", use: verify)
            .post("{id}/download-link", use: downloadLink)
            .post("{id}/restore", use: restore)
            .post("{id}/push", use: push)
    }

    struct Page: Encodable {
        var items: [BackupInfo]
        @ExplicitNull var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        var query = BackupQuery()
        if let limit = request.query("limit") {
            guard let value = Int(limit) else {
                throw BackupError.invalidQuery(parameter: "limit", reason: "must be a whole number")
            }
            query.limit = value
        }
        query.cursor = request.query("cursor")
        if let type = request.query("type") {
            guard let value = BackupType(rawValue: type) else {
                throw BackupError.invalidQuery(
                    parameter: "type", reason: "must be manual, auto, pre-restore or imported")
            }
            query.type = value
        }
        if let status = request.query("status") {
            guard let value = BackupStatus(rawValue: status) else {
                throw BackupError.invalidQuery(
                    parameter: "status",
                    reason: "must be one of \(BackupStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = value
        }
        if let scope = request.query("scope") {
            guard let value = BackupScope(rawValue: scope) else {
                throw BackupError.invalidQuery(parameter: "scope", reason: "must be database, files or full")
            }
            query.scope = value
        }
        var page = try await services.service.catalog.async.page(query)
        let runner = services.runner
        page.items = await runner.withLiveProgress(page.items)
        return try .json(Page(items: page.items, nextCursor: page.nextCursor))
    }

    struct CreateBody: StrictBody {
        var note: String?
        /// As sent; nil: the settings' `default_scope`.
        var scope: String?

        static var writableFields: [String] { ["note", "scope"] }
        static var readOnlyFields: [String] { BackupInfo.fieldNames.filter { !writableFields.contains($0) } }

        /// The scope asked for, or ``BackupError/invalidInput(fields:)`` naming `scope`.
        func askedScope() throws(BackupError) -> BackupScope? {
            guard let scope else { return nil }
            guard let value = BackupScope(rawValue: scope) else {
                throw .invalidInput(fields: ["scope": "must be database, files or full"])
            }
            return value
        }
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(CreateBody.self, allowEmpty: true)
        let info = try await services.runner.startBackup(type: .manual, note: body.note, scope: try body.askedScope())
        var response = try Response.json(info, status: .accepted)
        response.headers[.location] = "/api/backups/\(info.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let record = try await services.service.catalog.async.record(id: id)
        return try .json(await services.runner.withLiveProgress(record.info))
    }

    struct PatchBody: StrictBody {
        var note: String??
        var pinned: Bool?

        static var writableFields: [String] { BackupInfo.changeableFields }
        static var readOnlyFields: [String] { BackupInfo.fieldNames }

        enum CodingKeys: CodingKey { case note, pinned }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // A present `null` clears the note; an absent key leaves it.
            note =
                container.contains(.note)
                ? .some(try container.decodeNil(forKey: .note) ? nil : try container.decode(String.self, forKey: .note))
                : .none
            pinned = try container.decodeIfPresent(Bool.self, forKey: .pinned)
        }
    }

    @Sendable func annotate(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let catalog = services.service.catalog
        _ = try await catalog.async.record(id: id)
        var request = request
        let body = try await request.decodeJSON(PatchBody.self)
        let (note, pinned) = (body.note, body.pinned)
        let record = try await BlockingWork.run { () throws(BackupError) in
            try catalog.annotate(id: id, note: note, pinned: pinned)
        }
        return try .json(record.info)
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        switch try await services.runner.delete(id: try context.parameters.require("id")) {
        case .deleted: return Response(status: .noContent)
        case .cancelling(let info): return try .json(info, status: .accepted)
        }
    }

    struct VerifyBody: StrictBody {
        /// Read every chunk of an incremental backup (an export), not only its structure.
        var readData: Bool?

        static var writableFields: [String] { ["read_data"] }

        enum CodingKeys: String, CodingKey {
            case readData = "read_data"
        }
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        var request = request
        let body = try await request.decodeJSON(VerifyBody.self, allowEmpty: true)
        let info = try await services.runner.startVerification(id: id, readData: body.readData ?? false)
        var response = try Response.json(info, status: .accepted)
        response.headers[.location] = "/api/backups/\(info.id)"
        return response
    }

    struct RestoreBody: StrictBody {
        var safetyBackup: Bool?
        /// `database` or `files`: restore that part alone.
        var only: String?
        var keepOld: Bool?

        static var writableFields: [String] { ["safety_backup", "only", "keep_old"] }

        enum CodingKeys: String, CodingKey {
            case safetyBackup = "safety_backup"
            case only
            case keepOld = "keep_old"
        }

        func options() throws(BackupError) -> RestoreOptions {
            var options = RestoreOptions(keepOld: keepOld ?? false)
            if let only {
                guard let part = RestorePart(rawValue: only) else {
                    throw .invalidInput(fields: ["only": "must be database or files"])
                }
                options.only = part
            }
            return options
        }
    }

    /// Starts a restore job (202); the server enters maintenance, replaces the database and the
    /// directories (or the part `only` names) and restarts, after which `/api/status` reports
    /// `last_restore`.
    @Sendable func restore(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        _ = try BackupID.validated(id)
        var request = request
        let body = try await request.decodeJSON(RestoreBody.self, allowEmpty: true)
        let info = try await services.runner.startRestore(
            id: id, safetyBackup: body.safetyBackup ?? true, options: try body.options())
        var response = try Response.json(info, status: .accepted)
        response.headers[.location] = "/api/status"
        return response
    }

    /// Starts the off-site upload of a completed backup as a job (202): a retry of a failed or
    /// pending copy, or a new copy of one made while off-site copies were off.
    @Sendable func push(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        _ = try BackupID.validated(id)
        let info = try await services.runner.startUpload(id: id)
        var response = try Response.json(info, status: .accepted)
        response.headers[.location] = "/api/backups/\(info.id)"
        return response
    }

    struct Link: Encodable {
        var url: String
        var expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case url
            case expiresAt = "expires_at"
        }
    }

    @Sendable func downloadLink(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let service = services.service
        let record = try await BlockingWork.run { () throws(BackupError) in
            try service.downloadableRecord(id: id)
        }
        let signed = services.links.sign(id: id, sha256: record.sha256 ?? "", now: services.clock())
        return try .json(
            Link(
                url: "/api/backups/\(id)/download?expires=\(signed.expires)&signature=\(signed.signature)",
                expiresAt: Date(timeIntervalSince1970: TimeInterval(signed.expires))))
    }

    @Sendable func stats(_ request: Request, context: Context) async throws -> Response {
        let service = services.service
        return try .json(try await BlockingWork.run { () throws(BackupError) in try service.stats() })
    }
}
