import BackupCore
import Foundation
import Hummingbird
import Logging
import TestSupport
import Testing

@testable import BackupAPI

@Suite("docs/openapi.yaml matches the router")
struct OpenAPISyncTests {
    /// `METHOD /path` for every operation under `paths:` in the OpenAPI document.
    static func documentedRoutes() throws -> Set<String> {
        Set(try OpenAPIRoute.all().map(\.description))
    }

    @Test("every route the router serves is documented, and nothing else")
    func routesMatch() async throws {
        let directory = TemporaryDirectory("openapi")
        let dataDirectory = directory.dataDirectory
        let service = try BackupService(dataDirectory: dataDirectory)
        let router = buildRouter(
            AppServices(
                service: service, token: APIToken(value: "t-0123456789abcdef"),
                links: DownloadLinks(secret: "s-0123456789abcdef"), clock: SystemClock(), logger: Logger(label: "test"))
        )
        let served = Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { part in
                    part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                }
                return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
            })
        let documented = try Self.documentedRoutes()
        #expect(documented.count >= 14)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented))")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
    }
}
