import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("Web page sign-in: the session cookie, and the page's files")
struct SessionTests {
    static func signIn(
        _ client: some TestClientProtocol, token: String = TestArguments.token
    ) async throws
        -> TestResponse
    {
        try await client.execute(
            uri: "/api/session", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"token": "\#(token)"}"#))
    }

    /// The `csrf_token` of a sign-in or session answer.
    static func csrfToken(_ response: TestResponse) -> String? {
        struct State: Decodable { var csrf_token: String? }
        return try? JSONDecoder().decode(State.self, from: Data(response.body.readableBytesView)).csrf_token
    }

    /// The headers of a state-changing request from the page itself: cookie, Origin, CSRF token.
    static func pageHeaders(cookie: String, csrf: String) -> HTTPFields {
        [.cookie: cookie, .origin: "http://localhost", BrowserRequestGuard.csrfHeader: csrf]
    }

    /// `backup_session=VALUE` from a response's Set-Cookie.
    static func cookie(_ response: TestResponse) -> String? {
        guard let header = response.headers[.setCookie], header.hasPrefix("backup_session=") else { return nil }
        return String(header.split(separator: ";")[0])
    }

    @Test("a wrong token gets 401 and no cookie; the right one an HttpOnly, SameSite=Strict cookie without the token")
    func signIn() async throws {
        let directory = try RouteTests.dataDirectory("session-sign-in")
        try await RouteTests.app(directory).test(.router) { client in
            for wrong in [
                "wrong-token-0123456789", "", TestArguments.token + "x", String(TestArguments.token.dropLast()),
            ] {
                let response = try await Self.signIn(client, token: wrong)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
            }
            let malformed = try await client.execute(
                uri: "/api/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{"))
            #expect(malformed.status == .badRequest)

            let response = try await Self.signIn(client)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains(#""signed_in":true"#))
            #expect(Self.csrfToken(response)?.isEmpty == false)
            let header = try #require(response.headers[.setCookie])
            #expect(header.contains("HttpOnly"))
            #expect(header.contains("SameSite=Strict"))
            #expect(header.contains("Path=/"))
            #expect(header.contains("Max-Age=43200"))
            #expect(!header.contains(TestArguments.token))
        }
    }

    @Test("the cookie opens every /api route; tampered, expired or signed-out cookies do not")
    func cookieAuthorizes() async throws {
        let directory = try RouteTests.dataDirectory("session-routes")
        let clock = TestClock()
        try await RouteTests.app(directory, clock: clock).test(.router) { client in
            let signedIn = try await Self.signIn(client)
            let cookie = try #require(Self.cookie(signedIn))
            let csrf = try #require(Self.csrfToken(signedIn))
            let good: HTTPFields = [.cookie: cookie]
            for (method, uri) in RouteTests.apiRoutes where uri != "/api/events" && method == .get {
                let response = try await client.execute(uri: uri, method: method, headers: good)
                #expect(response.status != .unauthorized, "\(method) \(uri)")
            }
            let state = try await client.execute(uri: "/api/session", method: .get, headers: good)
            #expect(String(buffer: state.body).contains(#""signed_in":true"#))

            let value = cookie.dropFirst("backup_session=".count)
            let expires = value.split(separator: ".")[0]
            let tampered = [
                // The signature's last character changed (to A, or to B when it was an A).
                "backup_session=\(value.dropLast())\(value.last == "A" ? "B" : "A")",
                "backup_session=\(Int(expires)! + 3600).\(value.split(separator: ".").dropFirst().joined(separator: "."))",
                "backup_session=garbage", "backup_session=.", "backup_session=\(TestArguments.token)",
            ]
            for bad in tampered {
                for (method, uri) in RouteTests.apiRoutes {
                    let response = try await client.execute(uri: uri, method: method, headers: [.cookie: bad])
                    #expect(response.status == .unauthorized, "\(method) \(uri) with \(bad)")
                }
                let state = try await client.execute(uri: "/api/session", method: .get, headers: [.cookie: bad])
                #expect(String(buffer: state.body).contains(#""signed_in":false"#))
            }

            let out = try await client.execute(
                uri: "/api/session", method: .delete, headers: Self.pageHeaders(cookie: cookie, csrf: csrf))
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)

            clock.advance(by: SessionTickets.lifetime + 2)
            let expired = try await client.execute(uri: "/api/status", method: .get, headers: good)
            #expect(expired.status == .unauthorized)
        }
    }

    @Test("a new API token ends the sessions issued for the old one")
    func newTokenEndsSessions() async throws {
        let directory = try RouteTests.dataDirectory("session-token-change")
        let cookie = try await RouteTests.app(directory).test(.router) { client in
            let cookie = try #require(Self.cookie(try await Self.signIn(client)))
            #expect(
                try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: cookie]).status == .ok)
            return cookie
        }
        var arguments = TestArguments(dataDir: directory.path)
        arguments.token = "another-token-0123456789abcdef"
        try await buildApplication(arguments).test(.router) { client in
            let response = try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: cookie])
            #expect(response.status == .unauthorized)
        }
    }

    @Test("the page and its translations are served with a strict CSP; / leads there; nothing outside web/")
    func page() async throws {
        let directory = try RouteTests.dataDirectory("session-page")
        var arguments = TestArguments(dataDir: directory.path)
        arguments.assetsDir = TestArguments.checkout
        try await buildApplication(arguments).test(.router) { client in
            let page = try await client.execute(uri: "/settings/backup", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("/settings/backup/js/main.js"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            let russian = try await client.execute(uri: "/settings/backup/i18n/ru.json", method: .get)
            #expect(russian.status == .ok)
            #expect(String(buffer: russian.body).contains("Восстановить"))
            let root = try await client.execute(uri: "/", method: .get)
            #expect(root.status == .found)
            #expect(root.headers[.location] == "/settings/backup")
            for hostile in [
                "/settings/backup/../Package.swift", "/settings/backup/%2e%2e/Package.swift",
                "/settings/backup/i18n/..%2f..%2fPackage.swift", "/settings/backup/js/../../Makefile",
            ] {
                let response = try await client.execute(uri: hostile, method: .get)
                #expect([.badRequest, .notFound].contains(response.status), "\(hostile)")
                #expect(!String(buffer: response.body).contains("swift-tools-version"))
                #expect(!String(buffer: response.body).contains("SWIFT"))
            }
            let missing = try await client.execute(uri: "/settings/backup/nope.js", method: .get)
            #expect(missing.status == .notFound)
        }
    }
}
