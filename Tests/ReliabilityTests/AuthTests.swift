import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite("Auth: strangers get 401 or 403 everywhere, secrets stay out of logs", .serialized)
    struct AuthTests {
        @Test("every documented route × {no token, wrong token, expired link, another id's link, changed expiry}")
        func matrix() async throws {
            let directory = try Harness.dataDirectory("auth", megabytes: 1)
            let first = try Harness.createBackup(directory)
            let second = try Harness.createBackup(directory)
            let server = try LiveServer(
                dataDirectory: directory.path, token: Harness.token, extraArguments: ["--log-level", "trace"])
            try await server.waitUntilReady()
            let links = try DownloadLinks(dataDirectory: directory.dataDirectory)
            let now = Date()
            func query(_ signed: (expires: Int64, signature: String)) -> String {
                "expires=\(signed.expires)&signature=\(signed.signature)"
            }
            let firstSHA = try #require(first.sha256)
            let expired = links.sign(id: first.id, sha256: firstSHA, now: now.addingTimeInterval(-600))
            let otherID = links.sign(id: second.id, sha256: try #require(second.sha256), now: now)
            var changed = links.sign(id: first.id, sha256: firstSHA, now: now)
            let valid = changed
            changed.expires += 60
            let wrongTokens = ["wrong-token-0123456789abcdef", Harness.token + "x", String(Harness.token.dropLast())]
            struct Variant {
                var name: String
                var headers: [String: String] = [:]
                var query: String? = nil
            }
            var variants = wrongTokens.map { Variant(name: "wrong token", headers: ["Authorization": "Bearer \($0)"]) }
            variants += [
                Variant(name: "no token"),
                Variant(
                    name: "basic auth", headers: ["Authorization": "Basic \(Data("a:b".utf8).base64EncodedString())"]),
                Variant(name: "empty bearer", headers: ["Authorization": "Bearer "]),
                Variant(name: "expired link", query: query(expired)),
                Variant(name: "another id's link", query: query(otherID)),
                Variant(name: "changed expiry", query: query(changed)),
                Variant(name: "a valid link's signature on another route", query: query(valid)),
            ]

            let routes = try OpenAPIRoute.all().filter { !$0.isPublic }
            #expect(routes.count >= 15)
            var requests = 0
            for route in routes {
                for variant in variants {
                    if variant.name == "a valid link's signature on another route", route.path.hasSuffix("/download") {
                        continue
                    }
                    let path = route.path(id: first.id) + (variant.query.map { "?\($0)" } ?? "")
                    let (body, response) = try await server.request(
                        route.method, path, body: ["GET", "DELETE"].contains(route.method) ? nil : Data("{}".utf8),
                        headers: variant.headers, authorized: false)
                    requests += 1
                    let code = (try? JSONSerialization.jsonObject(with: body) as? [String: [String: Any]])?["error"]?[
                        "code"]
                    #expect(
                        [401, 403].contains(response.statusCode),
                        "\(route) with \(variant.name): \(response.statusCode)")
                    #expect(code != nil, "\(route) with \(variant.name): no error JSON")
                    if variant.query != nil, route.path.hasSuffix("/download") {
                        #expect(response.statusCode == 403, "\(route) with \(variant.name)")
                    }
                }
            }
            // The same links, untouched, do work: the refusals above are about the tampering.
            let (_, linked) = try await server.request(
                "GET", "/api/backups/\(first.id)/download?\(query(valid))", authorized: false)
            #expect(linked.statusCode == 200)
            let (_, listed) = try await server.request("GET", "/api/backups")
            #expect(listed.statusCode == 200)

            let stopped = server.terminate()
            let logs = stopped.stdout + stopped.stderr
            #expect(logs.contains("backup-api listening"), "the log was captured")
            let secret = try String(contentsOf: directory.url.appendingPathComponent("link-secret"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for (name, value) in [
                ("token", Harness.token), ("link secret", secret), ("link signature", valid.signature),
            ]
                + wrongTokens.map({ ("a presented token", $0) })
            {
                #expect(!logs.contains(value), "the \(name) appears in the log")
            }
            Intensity.figure("auth suite: \(requests) unauthorised requests on \(routes.count) routes, all 401/403")
        }

        @Test("a signed link dies with its bundle: deleted, then another bundle imported under the same id: 403")
        func linkBoundToBundle() async throws {
            let directory = try Harness.dataDirectory("auth-link-bundle", megabytes: 1)
            let original = try Harness.createBackup(directory)
            let bundleFile = directory.url.appendingPathComponent("backups/\(original.filename)")
            // The same id and content, packed anew: another bundle (another SHA-256) under that id.
            let forge = try BundleForge(bundle: bundleFile)
            let impostor = try forge.bundle(
                database: forge.database, manifest: forge.manifestBytes(for: forge.database))
            #expect(BundleForge.sha256(Array(impostor)) != original.sha256)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }

            struct Link: Decodable { var url: String }
            let (linkBody, _) = try await server.request("POST", "/api/backups/\(original.id)/download-link")
            let link = try JSONDecoder().decode(Link.self, from: linkBody).url
            let (_, works) = try await server.request("GET", link, authorized: false)
            #expect(works.statusCode == 200)

            let (_, deleted) = try await server.request("DELETE", "/api/backups/\(original.id)")
            #expect(deleted.statusCode == 204)
            let (_, gone) = try await server.request("GET", link, authorized: false)
            #expect(gone.statusCode == 403)
            let (imported, importResponse) = try await server.request(
                "POST", "/api/backups/import", body: impostor, headers: ["Content-Type": "application/gzip"])
            #expect(importResponse.statusCode == 201, "\(String(decoding: imported, as: UTF8.self))")
            #expect(try server.decode(BackupInfo.self, imported).id == original.id)

            let (body, reused) = try await server.request("GET", link, authorized: false)
            #expect(reused.statusCode == 403, "the old link opened the re-imported bundle")
            #expect(String(decoding: body, as: UTF8.self).contains("invalid_link"))
            // A link made for the new bundle works.
            let (newBody, _) = try await server.request("POST", "/api/backups/\(original.id)/download-link")
            let (download, fresh) = try await server.request(
                "GET", try JSONDecoder().decode(Link.self, from: newBody).url, authorized: false)
            #expect(fresh.statusCode == 200)
            #expect(download == impostor)
        }

        @Test("a token file, generated token or link secret readable by others stops the server from starting")
        func secretFileModes() throws {
            let api = try ChildProcess(product: "backup-api")
            func start(_ directory: TemporaryDirectory, _ arguments: [String]) throws -> ChildProcess.Result? {
                let running = try api.start(
                    ["--port", "\(try LiveServer.freePort())", "--data-dir", directory.path] + arguments,
                    environment: ["BACKUP_API_TOKEN": ""])
                guard waitUntil(timeout: 30, { !running.process.isRunning }) else {
                    running.signal(SIGKILL)
                    _ = running.wait()
                    return nil
                }
                return running.wait()
            }
            let secret = "file-token-0123456789abcdef\n"
            for mode in [0o644, 0o640, 0o604] {
                let directory = try Harness.dataDirectory("auth-modes", megabytes: 1)
                let tokenFile = directory.url.appendingPathComponent("token")
                try Data(secret.utf8).write(to: tokenFile)
                chmod(tokenFile.path, mode_t(mode))
                let result = try start(directory, ["--token-file", tokenFile.path])
                #expect(result != nil, "started with a token file of mode \(String(mode, radix: 8))")
                #expect(result?.stderr.contains("readable by other users") == true, "\(result?.stderr ?? "")")
                #expect(result?.stderr.contains("file-token") == false)

                for name in ["api-token", "link-secret"] {
                    let generated = try Harness.dataDirectory("auth-modes-\(name)", megabytes: 1)
                    try FileManager.default.createDirectory(at: generated.url, withIntermediateDirectories: true)
                    let file = generated.url.appendingPathComponent(name)
                    try Data("generated-secret-0123456789abcdef\n".utf8).write(to: file)
                    chmod(file.path, mode_t(mode))
                    let refused = try start(generated, [])
                    #expect(refused != nil, "started with \(name) of mode \(String(mode, radix: 8))")
                    #expect(refused?.stderr.contains("readable by other users") == true, "\(refused?.stderr ?? "")")
                }
            }
            // The control: mode 0600 starts (and is then stopped).
            let directory = try Harness.dataDirectory("auth-modes-ok", megabytes: 1)
            let tokenFile = directory.url.appendingPathComponent("token")
            try Data(secret.utf8).write(to: tokenFile)
            chmod(tokenFile.path, 0o600)
            #expect(try start(directory, ["--token-file", tokenFile.path]) == nil, "mode 0600 is accepted")
        }

        @Test("token comparison takes as long for a mismatch in the first byte as in the last")
        func constantTimeComparison() {
            let secret = String(repeating: "s", count: 1 << 20)
            let token = APIToken(value: secret)
            let early = "x" + secret.dropFirst()
            let late = String(secret.dropLast()) + "x"
            func fastest(_ body: () -> Void) -> Double {
                (0..<9).map { _ in
                    let start = DispatchTime.now().uptimeNanoseconds
                    body()
                    return Double(DispatchTime.now().uptimeNanoseconds - start)
                }.min()!
            }
            let earlyTime = fastest { #expect(!token.matches(early)) }
            let lateTime = fastest { #expect(!token.matches(late)) }
            let ratio = max(earlyTime, lateTime) / min(earlyTime, lateTime)
            #expect(ratio < 2, "early \(earlyTime) ns, late \(lateTime) ns")
            // The control: an ordinary comparison that stops at the first difference is far apart.
            let secretBytes = Array(secret.utf8)
            let earlyBytes = Array(early.utf8)
            let lateBytes = Array(late.utf8)
            let ordinaryEarly = fastest { #expect(secretBytes != earlyBytes) }
            let ordinaryLate = fastest { #expect(secretBytes != lateBytes) }
            #expect(ordinaryLate / ordinaryEarly > 10, "the measurement can tell an early exit apart")
        }
    }
}
