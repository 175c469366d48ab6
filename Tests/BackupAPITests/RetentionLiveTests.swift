import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Retention and reconciliation on the real server", .serialized)
struct RetentionLiveTests {
    struct Prune: Decodable {
        var deleted: [BackupInfo]
        var kept: [String]
        var dry_run: Bool
    }

    @Test("keep_last 2 with include_manual leaves the pinned backup and the newest two; a dry run deletes nothing")
    func keepLastTwo() async throws {
        let directory = TemporaryDirectory("live-retention")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        defer { _ = server.terminate() }

        let pinned = try await server.backupAndWait()
        _ = try await server.request("PATCH", "/api/backups/\(pinned.id)", body: Data(#"{"pinned": true}"#.utf8))
        var others: [BackupInfo] = []
        for _ in 0..<4 { others.append(try await server.backupAndWait()) }
        #expect(directory.backupFiles().count == 10)

        // Change the settings while "another process" holds the job lock, so the prune that a
        // settings change triggers is skipped and the dry run has something to report.
        let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
        let (_, put) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"retention": {"keep_last": 2, "include_manual": true}}"#.utf8))
        #expect(put.statusCode == 200)
        lock.release()

        let dry = try server.decode(Prune.self, try await server.request("POST", "/api/backups/prune?dry_run=true").0)
        #expect(dry.dry_run)
        #expect(Set(dry.deleted.map(\.id)) == [others[0].id, others[1].id])
        #expect(directory.backupFiles().count == 10)

        let real = try server.decode(Prune.self, try await server.request("POST", "/api/backups/prune").0)
        #expect(Set(real.deleted.map(\.id)) == [others[0].id, others[1].id])
        let expected = [pinned, others[2], others[3]].flatMap { [$0.filename, $0.filename + ".sha256"] }
        #expect(directory.backupFiles() == expected.sorted())
        struct Page: Decodable { var items: [BackupInfo] }
        let listed = try server.decode(Page.self, try await server.request("GET", "/api/backups").0).items.map(\.id)
        #expect(Set(listed) == [pinned.id, others[2].id, others[3].id])
    }

    @Test("prune answers what the repository's garbage collection freed: null without a repository, figures with one")
    func pruneReportsRepository() async throws {
        let directory = TemporaryDirectory("live-prune-repository")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        defer { _ = server.terminate() }
        func prune(_ query: String) async throws -> [String: Any] {
            let (data, response) = try await server.request("POST", "/api/backups/prune\(query)")
            #expect(response.statusCode == 200)
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        #expect(try await prune("")["repository"] is NSNull)

        // A file under a pack's name that no row names and that is no pack: garbage.
        let name = String(repeating: "cd", count: 32)
        let pack = directory.dataDirectory.backups.appendingPathComponent("repository/packs/cd/\(name).pack")
        try FileManager.default.createDirectory(at: pack.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 1, count: 3000).write(to: pack)
        let dry = try #require(try await prune("?dry_run=true")["repository"] as? [String: Any])
        #expect(dry["packs_deleted"] as? Int == 1 && dry["bytes_freed"] as? Int == 3000)
        #expect(FileManager.default.fileExists(atPath: pack.path))
        let real = try #require(try await prune("")["repository"] as? [String: Any])
        #expect(real["packs_deleted"] as? Int == 1 && real["packs_repacked"] as? Int == 0)
        #expect((real["packs_lost"] as? [String])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: pack.path))
    }

    @Test("start-up reconciliation: .tmp emptied, a stray file quarantined, a copied-in bundle adopted")
    func reconciliation() async throws {
        let other = TemporaryDirectory("live-reconcile-source")
        try SampleDatabase.create(at: other.dataDirectory.database, megabytes: 1)
        let foreign = try await BackupService(dataDirectory: other.dataDirectory).createBackup()

        let directory = TemporaryDirectory("live-reconcile")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try directory.dataDirectory.prepare()
        let backups = directory.url.appendingPathComponent("backups")
        try Data("half".utf8).write(to: backups.appendingPathComponent(".tmp/snapshot-0123456789abcdef.sqlite"))
        try Data("who am I".utf8).write(to: backups.appendingPathComponent("notes.txt"))
        try FileManager.default.copyItem(
            at: other.url.appendingPathComponent("backups/\(foreign.filename)"),
            to: backups.appendingPathComponent(foreign.filename))

        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        defer { _ = server.terminate() }
        #expect(directory.temporaryFiles().isEmpty)
        let quarantined = try FileManager.default.contentsOfDirectory(
            atPath: backups.appendingPathComponent("quarantine").path)
        #expect(quarantined == ["notes.txt"])
        let adopted = try server.decode(
            BackupInfo.self, try await server.request("GET", "/api/backups/\(foreign.id)").0)
        #expect(adopted.type == .imported)
        #expect(adopted.status == .completed)
        #expect(adopted.createdAt == foreign.createdAt)
        #expect(adopted.sha256 == foreign.sha256)
    }
}
