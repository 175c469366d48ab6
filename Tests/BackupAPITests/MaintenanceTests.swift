import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport
import Testing

@testable import BackupAPI

@Suite("Maintenance during a restore")
struct MaintenanceTests {
    @Test("in maintenance new requests get 503 maintenance; health, status and events still answer")
    func maintenanceRefusesRequests() async throws {
        let directory = TemporaryDirectory("api-maintenance")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let services = AppServices(
            service: service, token: APIToken(value: TestArguments.token),
            links: DownloadLinks(secret: "s-0123456789abcdef"), clock: SystemClock(), logger: Logger(label: "test"))
        let app = Application(router: buildRouter(services))
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/api/backups", method: .get, headers: .auth).status == .ok)
            services.runner.gate.enterMaintenance()
            let refused = try await client.execute(uri: "/api/backups", method: .get, headers: .auth)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "maintenance")
            #expect(refused.headers[.retryAfter] != nil)
            #expect(
                try await client.execute(uri: "/api/backups", method: .post, headers: .auth).status
                    == .serviceUnavailable)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let status = try await client.execute(uri: "/api/status", method: .get, headers: .auth)
            #expect(status.status == .ok)
            #expect(String(buffer: status.body).contains("\"state\":\"maintenance\""))
            services.runner.gate.leaveMaintenance()
            #expect(try await client.execute(uri: "/api/backups", method: .get, headers: .auth).status == .ok)
        }
    }

    @Test("drain waits for admitted requests and gives up after its bound")
    func drain() async {
        let gate = MaintenanceGate()
        #expect(gate.enter())
        gate.enterMaintenance()
        #expect(!gate.enter())
        #expect(await gate.drain(timeout: .milliseconds(50)) == false)
        gate.leave()
        #expect(await gate.drain(timeout: .seconds(5)))
    }
}
