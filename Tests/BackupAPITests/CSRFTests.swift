import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

/// Cross-site request forgery: the session cookie alone changes nothing; the page's own origin,
/// the session's CSRF token and a declared body are needed too. Bearer clients are unaffected.
@Suite("CSRF: a cookie-authenticated change needs the page's origin, the CSRF token and a declared body")
struct CSRFTests {
    struct Page {
        var cookie: String
        var csrf: String

        /// Headers as the page sends them on a state-changing request.
        func headers(
            origin: String? = "http://localhost", csrf: String? = nil, contentType: String? = nil
        )
            -> HTTPFields
        {
            var fields: HTTPFields = [.cookie: cookie]
            if let origin { fields[.origin] = origin }
            fields[BrowserRequestGuard.csrfHeader] = csrf ?? self.csrf
            if let contentType { fields[.contentType] = contentType }
            return fields
        }
    }

    static func signIn(_ client: some TestClientProtocol) async throws -> Page {
        let response = try await SessionTests.signIn(client)
        #expect(response.status == .ok)
        return Page(
            cookie: try #require(SessionTests.cookie(response)), csrf: try #require(SessionTests.csrfToken(response)))
    }

    static func backupCount(_ client: some TestClientProtocol) async throws -> Int {
        try await client.execute(uri: "/api/backups", method: .get, headers: .auth).json(ListPage.self).items.count
    }

    @Test(
        "a cookie without Origin, with a foreign Origin, or with Origin but no or a wrong CSRF token: 403, nothing made"
    )
    func refusals() async throws {
        let directory = try RouteTests.dataDirectory("csrf-refusals")
        try await RouteTests.app(directory).test(.router) { client in
            let page = try await Self.signIn(client)
            let other = try await Self.signIn(client)
            let json = "application/json"
            var attempts: [(String, HTTPFields)] = [
                ("no Origin", [.cookie: page.cookie, BrowserRequestGuard.csrfHeader: page.csrf, .contentType: json]),
                ("Origin null", page.headers(origin: "null", contentType: json)),
                ("no CSRF token", [.cookie: page.cookie, .origin: "http://localhost", .contentType: json]),
                ("an empty CSRF token", page.headers(csrf: "", contentType: json)),
                ("another session's CSRF token", page.headers(csrf: other.csrf, contentType: json)),
                ("the cookie as CSRF token", page.headers(csrf: page.cookie, contentType: json)),
            ]
            for foreign in [
                "http://localhost:8081", "http://127.0.0.1", "https://localhost", "http://evil.localhost",
                "http://localhost.evil.example", "http://localhost:80@evil.example",
            ] {
                attempts.append(("Origin \(foreign)", page.headers(origin: foreign, contentType: json)))
            }
            var crossSite = page.headers(origin: nil, contentType: json)
            crossSite[HTTPField.Name("Sec-Fetch-Site")!] = "same-site"
            attempts.append(("Sec-Fetch-Site: same-site", crossSite))

            let routes: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/api/backups", "{}"), (.post, "/api/backups/prune", nil),
                (.put, "/api/settings/backup", #"{"enabled": true}"#),
                (.patch, "/api/backups/0123456789abcdef", #"{"pinned": true}"#),
                (.delete, "/api/backups/0123456789abcdef", nil),
                (.post, "/api/backups/0123456789abcdef/restore", #"{"safety_backup": false}"#),
                (.post, "/api/backups/0123456789abcdef/verify", nil),
                (.post, "/api/backups/0123456789abcdef/download-link", nil),
                (.delete, "/api/session", nil),
            ]
            for (name, headers) in attempts {
                for (method, uri, body) in routes {
                    let response = try await client.execute(
                        uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    #expect(response.status == .forbidden, "\(method) \(uri) with \(name)")
                    #expect(response.errorCode == "csrf_rejected", "\(method) \(uri) with \(name)")
                }
                let imported = try await client.execute(
                    uri: "/api/backups/import", method: .post,
                    headers: headers.replacing(.contentType, with: "application/gzip"),
                    body: ByteBuffer(string: "not a bundle"))
                #expect(imported.status == .forbidden, "import with \(name)")
            }
            #expect(try await Self.backupCount(client) == 0)
            let settings = try await client.execute(uri: "/api/settings/backup", method: .get, headers: .auth)
            #expect(String(buffer: settings.body).contains(#""enabled":false"#))
            // The session survived every refused sign-out.
            let state = try await client.execute(uri: "/api/session", method: .get, headers: [.cookie: page.cookie])
            #expect(String(buffer: state.body).contains(#""signed_in":true"#))
            // Reading needs neither (a GET changes nothing).
            let list = try await client.execute(uri: "/api/backups", method: .get, headers: [.cookie: page.cookie])
            #expect(list.status == .ok)
        }
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("a body the page did not declare as JSON is 415, whatever else is right; JSON with a charset passes")
    func contentTypes() async throws {
        let directory = try RouteTests.dataDirectory("csrf-content-type")
        try await RouteTests.app(directory).test(.router) { client in
            let page = try await Self.signIn(client)
            for contentType in [
                "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/jsonx", "application/gzip",
            ] {
                for (method, uri) in [
                    (HTTPRequest.Method.post, "/api/backups"), (.put, "/api/settings/backup"),
                    (.post, "/api/backups/0123456789abcdef/restore"),
                ] {
                    let response = try await client.execute(
                        uri: uri, method: method, headers: page.headers(contentType: contentType),
                        body: ByteBuffer(string: #"{"note": "forged", "enabled": true, "safety_backup": false}"#))
                    #expect(response.status == .unsupportedMediaType, "\(method) \(uri) as \(contentType)")
                    #expect(response.errorCode == "unsupported_media_type")
                }
            }
            // A body without any Content-Type (a Blob) is refused too, by its length or its bytes.
            var declared = page.headers()
            declared[.contentLength] = "2"
            let sized = try await client.execute(
                uri: "/api/backups", method: .post, headers: declared, body: ByteBuffer(string: "{}"))
            #expect(sized.status == .unsupportedMediaType)
            let unsized = try await client.execute(
                uri: "/api/backups", method: .post, headers: page.headers(), body: ByteBuffer(string: "{}"))
            #expect(unsized.status == .unsupportedMediaType)
            // The import takes only bundle types.
            for contentType in ["application/json", "text/plain", "application/x-www-form-urlencoded"] {
                let response = try await client.execute(
                    uri: "/api/backups/import", method: .post, headers: page.headers(contentType: contentType),
                    body: ByteBuffer(string: "not a bundle"))
                #expect(response.status == .unsupportedMediaType, "import as \(contentType)")
            }
            for contentType in ["application/gzip", "application/octet-stream"] {
                let response = try await client.execute(
                    uri: "/api/backups/import", method: .post, headers: page.headers(contentType: contentType),
                    body: ByteBuffer(string: "not a bundle"))
                #expect(response.status == .unprocessableContent, "import as \(contentType)")
            }
            #expect(try await Self.backupCount(client) == 0)

            // The page's own requests: JSON (with a charset), and a bodyless POST with no type.
            let created = try await client.execute(
                uri: "/api/backups", method: .post,
                headers: page.headers(contentType: "application/json; charset=utf-8"),
                body: ByteBuffer(string: #"{"note": "from the page"}"#))
            #expect(created.status == .accepted)
            let info = try await waitUntilSettled(client, id: try created.json(BackupInfo.self).id)
            #expect(info.note == "from the page")
            var sameOrigin = page.headers(origin: nil)
            sameOrigin[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
            let verified = try await client.execute(
                uri: "/api/backups/\(info.id)/verify", method: .post, headers: sameOrigin)
            #expect(verified.status == .accepted, "Sec-Fetch-Site: same-origin stands in for Origin")
            _ = try await waitUntilSettled(client, id: info.id)
        }
    }

    @Test("bearer clients need no Origin, CSRF token or Content-Type, as before")
    func bearerUnaffected() async throws {
        let directory = try RouteTests.dataDirectory("csrf-bearer")
        try await RouteTests.app(directory).test(.router) { client in
            var headers = HTTPFields.auth
            headers[.contentType] = "application/x-www-form-urlencoded"  // what curl -d sends
            headers[.origin] = "http://elsewhere.example"
            let created = try await client.execute(
                uri: "/api/backups", method: .post, headers: headers, body: ByteBuffer(string: #"{"note": "curl"}"#))
            #expect(created.status == .accepted)
            let info = try await waitUntilSettled(client, id: try created.json(BackupInfo.self).id)
            #expect(info.note == "curl")
            let verified = try await client.execute(
                uri: "/api/backups/\(info.id)/verify", method: .post, headers: .auth)
            #expect(verified.status == .accepted, "a bodyless POST without Content-Type")
            _ = try await waitUntilSettled(client, id: info.id)
            let patched = try await client.execute(
                uri: "/api/backups/\(info.id)", method: .patch, headers: .auth,
                body: ByteBuffer(string: #"{"pinned": true}"#))
            #expect(patched.status == .ok)
        }
    }

    @Test("sign-out revokes the session: a copied cookie gets 401, also after a restart")
    func signOutRevokes() async throws {
        let directory = try RouteTests.dataDirectory("csrf-sign-out")
        let (copied, kept) = try await RouteTests.app(directory).test(.router) { client in
            let page = try await Self.signIn(client)
            let other = try await Self.signIn(client)
            let out = try await client.execute(uri: "/api/session", method: .delete, headers: page.headers())
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let copy = try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: page.cookie])
            #expect(copy.status == .unauthorized)
            let state = try await client.execute(uri: "/api/session", method: .get, headers: [.cookie: page.cookie])
            #expect(String(buffer: state.body).contains(#""signed_in":false"#))
            #expect(!String(buffer: state.body).contains("csrf_token"))
            let forged = try await client.execute(
                uri: "/api/backups", method: .post, headers: page.headers(contentType: "application/json"),
                body: ByteBuffer(string: "{}"))
            #expect(forged.status == .unauthorized)
            // Another session (another browser) lives on.
            let still = try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: other.cookie])
            #expect(still.status == .ok)
            return (page.cookie, other.cookie)
        }
        let file = directory.url.appendingPathComponent("revoked-sessions")
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await RouteTests.app(directory).test(.router) { client in
            let copy = try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: copied])
            #expect(copy.status == .unauthorized, "the revocation outlives the process")
            let other = try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: kept])
            #expect(other.status == .ok)
        }
    }

    @Test("sign-in: a foreign Origin is 403, a body not declared JSON 415; a same-origin one works")
    func signIn() async throws {
        let directory = try RouteTests.dataDirectory("csrf-sign-in")
        try await RouteTests.app(directory).test(.router) { client in
            let body = ByteBuffer(string: #"{"token": "\#(TestArguments.token)"}"#)
            let foreign = try await client.execute(
                uri: "/api/session", method: .post,
                headers: [.origin: "http://127.0.0.1:9", .contentType: "application/json"], body: body)
            #expect(foreign.status == .forbidden)
            #expect(foreign.headers[.setCookie] == nil)
            let plain = try await client.execute(
                uri: "/api/session", method: .post, headers: [.origin: "http://localhost", .contentType: "text/plain"],
                body: body)
            #expect(plain.status == .unsupportedMediaType)
            #expect(plain.headers[.setCookie] == nil)
            let good = try await client.execute(
                uri: "/api/session", method: .post,
                headers: [.origin: "http://localhost", .contentType: "application/json"], body: body)
            #expect(good.status == .ok)
            #expect(good.headers[.setCookie] != nil)
        }
    }

    @Test("CORS stays closed: no Access-Control-Allow-* on any answer, preflight included")
    func corsClosed() async throws {
        let directory = try RouteTests.dataDirectory("csrf-cors")
        try await RouteTests.app(directory).test(.router) { client in
            let page = try await Self.signIn(client)
            var requests: [(HTTPRequest.Method, String, HTTPFields)] = []
            for (method, uri) in RouteTests.apiRoutes where uri != "/api/events" {
                requests.append((method, uri, page.headers(origin: "http://127.0.0.1:9")))
                requests.append((method, uri, HTTPFields.auth + [.origin: "http://127.0.0.1:9"]))
                requests.append(
                    (
                        .options, uri,
                        [
                            .origin: "http://127.0.0.1:9", .accessControlRequestMethod: method.rawValue,
                            .accessControlRequestHeaders: "x-backup-csrf, content-type", .cookie: page.cookie,
                        ]
                    ))
            }
            requests.append((.options, "/api/session", [.origin: "http://127.0.0.1:9"]))
            for (method, uri, headers) in requests {
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                let cors = response.headers.filter { $0.name.canonicalName.hasPrefix("access-control-") }
                #expect(cors.isEmpty, "\(method) \(uri): \(cors)")
            }
        }
    }
}

extension HTTPFields {
    fileprivate func replacing(_ name: HTTPField.Name, with value: String) -> HTTPFields {
        var fields = self
        fields[name] = value
        return fields
    }

    fileprivate static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var fields = lhs
        fields.append(contentsOf: rhs)
        return fields
    }
}
