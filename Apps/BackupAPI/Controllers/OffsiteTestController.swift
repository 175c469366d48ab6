import BackupCore
import Hummingbird

/// `POST /api/settings/offsite/test`: a round trip to the bucket (put, head, get, delete of a
/// small object under the prefix). Without a body the saved settings are tested; a body
/// `{"offsite": {…}}` (a PUT's off-site fields, the secret included) is tried on top of them and
/// saved nowhere. A failure is `offsite_failed` with its `kind` (502).
struct OffsiteTestController<Context: RequestContext> {
    let services: AppServices

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("offsite/test", use: test)
    }

    /// The body: only the `offsite` object of a settings change.
    struct Body: StrictBody {
        static var writableFields: [String] {
            (BackupSettings.fieldNames + BackupSettings.readOnlyFieldNames).filter { $0.hasPrefix("offsite.") }
        }
        var patch: SettingsPatch

        init(from decoder: any Decoder) throws {
            patch = try SettingsPatch(from: decoder)
        }
    }

    struct Outcome: Encodable {
        var ok = true
    }

    @Sendable func test(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(Body.self, allowEmpty: true)
        try await services.service.testOffsiteConnection(body.patch)
        return try .json(Outcome())
    }
}
