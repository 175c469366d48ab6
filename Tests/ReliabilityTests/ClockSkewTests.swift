import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Reliability {
    @Suite("Clock skew: bundles dated in the future cannot make retention delete new backups", .serialized)
    struct ClockSkewTests {
        static let future = "2099-01-01T00:00:00.000Z"

        /// Two bundles of `directory`'s database whose manifests say 2099, under new ids.
        static func forgedBundles(_ directory: TemporaryDirectory, count: Int = 2) throws -> [(id: String, bytes: Data)]
        {
            let real = try Harness.createBackup(directory)
            let forge = try BundleForge(bundle: directory.url.appendingPathComponent("backups/\(real.filename)"))
            return try (0..<count).map { _ in
                let id = BackupID.make()
                let manifest = forge.manifestBytes(for: forge.database) { manifest in
                    manifest["id"] = id
                    manifest["created_at"] = future
                }
                return (id, try forge.bundle(database: forge.database, manifest: manifest))
            }
        }

        @Test("backup import of bundles dated 2099, then backup create: the new bundle exists and show finds it")
        func throughTheCLI() throws {
            let directory = try Harness.dataDirectory("clock-skew-cli", megabytes: 1)
            let set = try Harness.cli(["settings", "set", "keep_last=1", "include_manual=true"], directory)
            #expect(set.status == 0, "\(set.stderr)")
            let scratch = TemporaryDirectory("clock-skew-files")
            for (id, bytes) in try Self.forgedBundles(directory) {
                let file = scratch.url.appendingPathComponent("\(id).tar.gz")
                try bytes.write(to: file)
                let imported = try Harness.cli(["import", file.path, "--json"], directory)
                #expect(imported.status == 0, "\(imported.stderr)")
                let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(imported.stdout.utf8))
                #expect(info.createdAt > Date(timeIntervalSinceNow: 365 * 24 * 3600))
                #expect(info.recordedAt <= Date())
                #expect(info.warnings == [BackupInfo.createdAtInFuture])
            }
            for _ in 0..<2 {
                let created = try Harness.createBackup(directory)
                let bundle = directory.url.appendingPathComponent("backups/\(created.filename)")
                #expect(FileManager.default.fileExists(atPath: bundle.path), "backup create reported a deleted bundle")
                let shown = try Harness.cli(["show", created.id], directory)
                #expect(shown.status == 0, "\(shown.stderr)")
            }
        }

        @Test("POST /api/backups/import of bundles dated 2099, then POST /api/backups: the new backup stays")
        func throughTheAPI() async throws {
            let directory = try Harness.dataDirectory("clock-skew-api", megabytes: 1)
            let forged = try Self.forgedBundles(directory)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let (_, put) = try await server.request(
                "PUT", "/api/settings/backup",
                body: Data(#"{"retention": {"keep_last": 1, "include_manual": true}}"#.utf8),
                headers: ["Content-Type": "application/json"])
            #expect(put.statusCode == 200)
            for (_, bytes) in forged {
                let (body, response) = try await server.request(
                    "POST", "/api/backups/import", body: bytes, headers: ["Content-Type": "application/gzip"])
                #expect(response.statusCode == 201, "\(String(decoding: body, as: UTF8.self))")
                let info = try server.decode(BackupInfo.self, body)
                #expect(info.warnings == [BackupInfo.createdAtInFuture])
            }
            let made = try await server.backupAndWait()
            #expect(made.status == .completed)
            let (_, again) = try await server.request("GET", "/api/backups/\(made.id)")
            #expect(again.statusCode == 200)
            #expect(
                FileManager.default.fileExists(
                    atPath: directory.url.appendingPathComponent("backups/\(made.filename)").path))
        }
    }
}
