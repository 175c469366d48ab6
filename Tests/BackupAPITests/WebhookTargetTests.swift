import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing

@testable import BackupAPI

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Webhooks never reach link-local or metadata addresses, carry no credentials, follow no
/// redirects; notes refuse bidirectional overrides.
@Suite("Webhook targets and note characters", .serialized)
struct WebhookTargetTests {
    static let refused = [
        "http://169.254.169.254/latest/meta-data/", "http://169.254.1.1/hook", "http://[fe80::1]/hook",
        "http://[fe80::1%25eth0]/hook", "http://[febf::1]/hook", "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/",
        "http://METADATA.GOOGLE.INTERNAL./x", "http://[::ffff:169.254.169.254]/", "http://2852039166/",
        "http://0xa9fea9fe/", "http://0251.0376.0251.0376/", "http://user:secret@127.0.0.1:9/hook",
        "https://token@hooks.example.com/x",
    ]
    static let allowed = [
        "http://127.0.0.1:9/hook", "http://localhost:8080/x", "http://10.0.0.5/hook", "http://192.168.1.20/hook",
        "http://172.16.0.1/x", "http://[::1]:9/hook", "http://[fd00::1]/x", "https://hooks.example.com/backup",
        "http://169.253.0.1/x", "http://[fec0::1]/x",
    ]

    @Test("link-local, metadata and credential-carrying webhook URLs get 422 naming webhook_url; private ones pass")
    func validation() async throws {
        let directory = try RouteTests.dataDirectory("webhook-validation")
        try await RouteTests.app(directory).test(.router) { client in
            for url in Self.refused {
                let response = try await client.execute(
                    uri: "/api/settings/backup", method: .put, headers: .auth,
                    body: ByteBuffer(string: #"{"webhook_url": "\#(url)"}"#))
                #expect(response.status == .unprocessableContent, "\(url)")
                #expect(response.errorFields?.keys.contains("webhook_url") == true, "\(url)")
            }
            for url in Self.allowed {
                let response = try await client.execute(
                    uri: "/api/settings/backup", method: .put, headers: .auth,
                    body: ByteBuffer(string: #"{"webhook_url": "\#(url)"}"#))
                #expect(response.status == .ok, "\(url): \(String(buffer: response.body))")
            }
        }
    }

    @Test("at delivery, a host that resolves to a link-local or metadata address is refused")
    func resolvedAddresses() {
        let url = URL(string: "http://hooks.internal.example/x")!
        #expect(WebhookTarget.refusal(for: url, resolver: { _ in [[169, 254, 169, 254]] }) != nil)
        let awsV6: [UInt8] = [0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]
        #expect(WebhookTarget.refusal(for: url, resolver: { _ in [[10, 0, 0, 5], awsV6] }) != nil)
        #expect(WebhookTarget.refusal(for: url, resolver: { _ in [[10, 0, 0, 5], [127, 0, 0, 1]] }) == nil)
        // The real resolver: loopback by name is fine.
        #expect(WebhookTarget.refusal(for: URL(string: "http://localhost:9/x")!) == nil)
        #expect(WebhookTarget.resolve("localhost").contains([127, 0, 0, 1]))
    }

    /// A receiver on loopback: `/redirect` answers 307 to `/target`; every hit is counted.
    final class Receiver: Sendable {
        let hits = Mutex<[String]>([])

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("redirect") { _, _ -> Response in
                self.hits.withLock { $0.append("redirect") }
                return Response(status: .temporaryRedirect, headers: [.location: "/target"])
            }
            router.post("target") { _, _ -> Response in
                self.hits.withLock { $0.append("target") }
                return Response(status: .ok)
            }
            return router
        }
    }

    @Test("a redirect is not followed: the 3xx is a failed attempt")
    func redirectsNotFollowed() async throws {
        let receiver = Receiver()
        let port = try LiveServer.freePort()
        let app = Application(
            router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let running = Task { try await app.run() }
        defer { running.cancel() }
        for _ in 0..<500 {
            if (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/")!)) != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }

        let directory = TemporaryDirectory("webhook-redirect")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var settings = try service.catalog.settings()
        settings.webhookURL = "http://127.0.0.1:\(port)/redirect"
        try service.saveSettings(settings)
        let notifier = AlertNotifier(catalog: service.catalog, backoff: [0])
        let delivered = await notifier.backupFailed(nil, message: "test")?.value
        #expect(delivered == false)
        #expect(receiver.hits.withLock { $0 } == ["redirect", "redirect"], "two attempts, never the target")
    }

    @Test(
        "a URL saved before the rule (credentials, link-local) is refused at delivery, and the log names only the host")
    func legacySettingsRefusedAtDelivery() async throws {
        let directory = TemporaryDirectory("webhook-legacy")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        service.catalog.close()
        for url in ["http://admin:s3cr3t-pass@169.254.169.254/latest", "http://admin:s3cr3t-pass@127.0.0.1:9/hook"] {
            try TestDB.execute(
                directory.dataDirectory.catalog.path, "UPDATE backup_settings SET webhook_url = '\(url)' WHERE id = 1")
            let server = try LiveServer(dataDirectory: directory.path)
            try await server.waitUntilReady()
            try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
            let (data, created) = try await server.request("POST", "/api/backups")
            #expect(created.statusCode == 202)
            let pending = try JSONDecoder.backupManager().decode(BackupInfo.self, from: data)
            #expect(try await server.waitForCompletion(id: pending.id).status == .failed)
            // The refusal is logged at once (before any network access); the output is read at exit.
            let stopped = server.terminate()
            let output = stopped.stdout + stopped.stderr
            #expect(output.contains("webhook refused"), "\(url): \(output.suffix(2000))")
            #expect(!output.contains("s3cr3t-pass"), "the password reached the log")
            #expect(!output.contains("admin:"), "the user name reached the log")
            try FileManager.default.removeItem(at: directory.dataDirectory.database)
            try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        }
    }

    @Test("notes refuse bidirectional overrides and isolates like other control characters")
    func bidirectionalNotes() throws {
        for scalar in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] {
            let note = "invoice \(Character(Unicode.Scalar(scalar)!))fdp.exe"
            #expect(throws: BackupError.self, "U+\(String(scalar, radix: 16))") { try BackupNote.validated(note) }
        }
        #expect(try BackupNote.validated("right-to-left مرحبا") == "right-to-left مرحبا")
        #expect(try BackupNote.validated("left\u{200E}mark") == "left\u{200E}mark")
    }
}
