import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("POST /api/settings/offsite/test against a real S3 server (moto, signatures checked)", .serialized)
struct OffsiteTestRouteTests {
    /// A data directory whose saved settings point at `moto`, with its key stored as the secret.
    static func configured(_ moto: MotoServer, _ label: String) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(label)
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        var settings = BackupSettings()
        settings.offsite = OffsiteSettings(
            endpoint: moto.endpoint.absoluteString, region: moto.region, bucket: moto.bucket, prefix: "probe/here",
            pathStyle: true, accessKeyID: moto.credentials.accessKeyID)
        try service.saveSettings(settings, secretChange: .set(SecretText(moto.credentials.secretAccessKey)))
        service.catalog.close()
        return directory
    }

    static func post(_ client: some TestClientProtocol, _ body: String?) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/settings/offsite/test", method: .post, headers: .auth, body: body.map { ByteBuffer(string: $0) })
    }

    @Test("the saved settings work: ok, and the probe leaves nothing under the prefix")
    func success() async throws {
        let moto = try await MotoServer()
        let directory = try Self.configured(moto, "offsite-test-ok")
        try await buildApplication(TestArguments(dataDir: directory.path)).test(.router) { client in
            let response = try await Self.post(client, nil)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(String(buffer: response.body) == #"{"ok":true}"#)
        }
        #expect(try await moto.keys(prefix: "probe/here/").isEmpty)
    }

    @Test("a wrong secret in the body is tried, not saved, and named as the signature problem (502, kind signature)")
    func wrongSecret() async throws {
        let moto = try await MotoServer()
        let directory = try Self.configured(moto, "offsite-test-signature")
        try await buildApplication(TestArguments(dataDir: directory.path)).test(.router) { client in
            let response = try await Self.post(client, #"{"offsite": {"secret_access_key": "WrongSecret0123456789"}}"#)
            let body = String(buffer: response.body)
            #expect(response.status.code == 502, "\(body)")
            #expect(response.errorCode == "offsite_failed")
            #expect(body.contains(#""kind":"signature""#), "\(body)")
            #expect(!body.contains("WrongSecret0123456789"))
            // The stored secret is unchanged: the saved settings still work.
            #expect(try await Self.post(client, nil).status == .ok)
        }
    }

    @Test("an endpoint nothing listens on is a connection failure; incomplete settings are 422 naming the fields")
    func unreachableAndIncomplete() async throws {
        let directory = TemporaryDirectory("offsite-test-unreachable")
        try await buildApplication(TestArguments(dataDir: directory.path)).test(.router) { client in
            let incomplete = try await Self.post(client, nil)
            #expect(incomplete.status == .unprocessableContent)
            let fields = incomplete.errorFields ?? [:]
            #expect(fields["offsite.endpoint"] != nil && fields["offsite.bucket"] != nil, "\(fields)")

            let port = try LiveServer.freePort()
            let response = try await Self.post(
                client,
                """
                {"offsite": {"endpoint": "http://127.0.0.1:\(port)", "bucket": "nobody-home", "path_style": true,
                 "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "irrelevant-secret"}}
                """)
            let body = String(buffer: response.body)
            #expect(response.status.code == 502, "\(body)")
            #expect(body.contains(#""kind":"connection""#), "\(body)")
            let unknown = try await Self.post(client, #"{"interval_hours": 3}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.errorFields?["interval_hours"] == "unknown field")
        }
        #expect(try BackupService(dataDirectory: directory.dataDirectory).settings().offsite.bucket == "")
    }
}
