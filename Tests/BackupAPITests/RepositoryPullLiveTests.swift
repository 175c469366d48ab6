import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server on a new machine and the bucket's incremental backups: listed, downloaded and
/// restored through the API (real processes, moto with signatures checked).
@Suite("backup-api and the bucket's incremental backups, as real processes", .serialized)
struct RepositoryPullLiveTests {
    let backup = try! ChildProcess(product: "backup")

    func run(_ arguments: [String], _ directory: TemporaryDirectory) throws -> ChildProcess.Result {
        try backup.run(arguments + ["--data-dir", directory.path], environment: MotoServer.noEnvironment)
    }

    @Test(
        "a new machine's server lists the bucket's incremental backups (format, logical_bytes), downloads one (pulled, then exported) and restores the other"
    )
    func listDownloadRestore() async throws {
        let moto = try await MotoServer()
        let a = TemporaryDirectory("pull-live-a")
        try SampleDatabase.create(at: a.dataDirectory.database, megabytes: 2)
        #expect(try moto.configure(a, with: backup, extra: ["format=incremental"]).status == 0)
        let decoder = JSONDecoder.backupManager()
        let first = try decoder.decode(BackupInfo.self, from: Data(try run(["create", "--json"], a).stdout.utf8))
        try TestDB.execute(a.dataDirectory.database.path, "UPDATE account SET balance = balance + 7 WHERE id % 9 = 0")
        let second = try decoder.decode(BackupInfo.self, from: Data(try run(["create", "--json"], a).stdout.utf8))
        let expected = try TestDB.fingerprint(a.dataDirectory.database.path)

        let b = TemporaryDirectory("pull-live-b")
        try SampleDatabase.create(at: b.dataDirectory.database, megabytes: 1)
        #expect(try moto.configure(b, with: backup, extra: ["format=incremental"]).status == 0)
        let server = try LiveServer(dataDirectory: b.path, environment: MotoServer.noEnvironment)
        defer { _ = server.terminate() }
        try await server.waitUntilReady()

        struct Listing: Decodable { var items: [RemoteBackup] }
        let (listing, listed) = try await server.request("GET", "/api/remote/backups")
        #expect(listed.statusCode == 200, "\(String(decoding: listing, as: UTF8.self))")
        let items = try server.decode(Listing.self, listing).items
        #expect(items.map(\.id) == [second.id, first.id])
        #expect(items.allSatisfy { $0.format == .incremental && !$0.local })
        #expect(items.map(\.logicalBytes) == [second.logicalBytes, first.logicalBytes])
        let raw = String(decoding: listing, as: UTF8.self)
        #expect(raw.contains(#""format":"incremental""#) && raw.contains(#""logical_bytes":"#))

        // A download of a remote-only incremental backup: no redirect, the export after a pull.
        let (bundle, downloaded) = try await server.request("GET", "/api/backups/\(first.id)/download")
        #expect(downloaded.statusCode == 200, "\(String(decoding: bundle.prefix(500), as: UTF8.self))")
        #expect(bundle.starts(with: [0x28, 0xB5, 0x2F, 0xFD]), "a zstd frame")
        let pulled = try server.decode(BackupInfo.self, try await server.request("GET", "/api/backups/\(first.id)").0)
        #expect(pulled.store == "repository")

        // The API's restore of the other one pulls it on the way.
        let (restoreBody, restoring) = try await server.request(
            "POST", "/api/backups/\(second.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(restoring.statusCode == 202, "\(String(decoding: restoreBody, as: UTF8.self))")
        let status = try await RestoreLiveTests().waitForStatus(server) {
            $0.last_restore != nil && $0.state == "ready"
        }
        #expect(status.last_restore?.outcome == .succeeded, "\(status.last_restore?.error ?? "-")")
        #expect(try TestDB.fingerprint(b.dataDirectory.database.path) == expected)
    }
}
