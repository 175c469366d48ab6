import BackupCore
import Foundation
import TestSupport
import Testing

/// Off-site copies end to end, as an operator would: the real `backup` executable, a real S3
/// server on loopback (moto, signatures checked) and boto3 as the independent reader.
@Suite("backup create/remote …/restore against a real S3 server (moto), as real processes", .serialized)
struct OffsiteReplicationCLITests {
    let backup = try! ChildProcess(product: "backup")
    /// The tests' own credentials come from the settings, never from the runner's environment.
    static let noEnvironment = MotoServer.noEnvironment

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    /// `backup settings set offsite.…` pointing `directory` at `moto`'s bucket, secret from stdin.
    func configure(
        _ directory: TemporaryDirectory, _ moto: MotoServer, secret: String? = nil, extra: [String] = []
    ) throws {
        let set = try moto.configure(directory, with: backup, secret: secret, extra: extra)
        #expect(set.status == 0, "\(set.stderr)")
    }

    func create(_ directory: TemporaryDirectory) throws -> BackupInfo {
        let created = try backup.run(
            ["create", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(created.status == 0, "\(created.stderr)")
        return try json(BackupInfo.self, created)
    }

    @Test(
        "create uploads bundle and sidecar that boto3 reads back; an empty data directory lists and restores from the bucket alone"
    )
    func createUploadListRestoreElsewhere() async throws {
        let moto = try await MotoServer()
        let first = TemporaryDirectory("offsite-e2e-a")
        try SampleDatabase.create(at: first.dataDirectory.database, megabytes: 2)
        try configure(first, moto)
        let info = try create(first)
        #expect(info.status == .completed)
        #expect(info.offsite.status == .uploaded, "\(info.offsite)")
        #expect(info.store == "local")
        #expect(info.offsite.key == "backups/\(info.filename)")
        #expect(info.offsite.uploadedAt != nil)

        // boto3 reads the very bytes the record names, with the metadata of the design.
        let object = try await moto.read(key: "backups/\(info.filename)")
        #expect(object.sha256 == info.sha256)
        #expect(object.size == info.sizeBytes)
        #expect(object.metadata["backup-id"] == info.id)
        #expect(object.metadata["backup-type"] == "manual")
        #expect(object.metadata["sha256"] == info.sha256)
        let sidecar = try await moto.read(key: "backups/\(info.filename).sha256")
        #expect(sidecar.size == Int64("\(info.sha256!)  \(info.filename)\n".utf8.count))
        #expect(
            try await moto.keys(prefix: "backups/").sorted() == [
                "backups/\(info.filename)", "backups/\(info.filename).sha256",
            ])
        let original = try TestDB.strings(
            first.dataDirectory.database.path, "SELECT COUNT(*) || ':' || SUM(length(payload)) FROM filler")

        // A second, empty data directory pointing at the same bucket.
        let second = TemporaryDirectory("offsite-e2e-b")
        try configure(second, moto)
        let listed = try backup.run(
            ["remote", "list", "--json", "--data-dir", second.path], environment: Self.noEnvironment)
        #expect(listed.status == 0, "\(listed.stderr)")
        let remote = try json([RemoteBackup].self, listed)
        #expect(remote.map(\.id) == [info.id])
        #expect(remote.first?.local == false)
        #expect(remote.first?.sizeBytes == info.sizeBytes)
        let table = try backup.run(["remote", "list", "--data-dir", second.path], environment: Self.noEnvironment)
        #expect(table.stdout.contains(info.id) && table.stdout.contains("no"), "\(table.stdout)")
        #expect(second.backupFiles().isEmpty, "no local bundle ever existed here")

        let restored = try backup.run(
            ["restore", info.id, "--yes", "--data-dir", second.path], environment: Self.noEnvironment)
        #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")
        #expect(
            try TestDB.strings(
                second.dataDirectory.database.path, "SELECT COUNT(*) || ':' || SUM(length(payload)) FROM filler")
                == original)
        #expect(try TestDB.strings(second.dataDirectory.database.path, "PRAGMA integrity_check") == ["ok"])
        // The downloaded bundle was a temporary file: nothing of it is left.
        #expect(second.temporaryFiles().allSatisfy { !$0.contains(info.filename) })
        #expect(!second.backupFiles().contains(info.filename))
        let shown = try backup.run(["show", info.id, "--json", "--data-dir", second.path])
        let record = try json(BackupInfo.self, shown)
        #expect(record.offsite.status == .uploaded)
        #expect(record.store == "s3", "remote-only: no local file")
        let listedHere = try backup.run(["list", "--data-dir", second.path])
        #expect(listedHere.stdout.contains("(bucket only)"), "\(listedHere.stdout)")
        let shownHere = try backup.run(["show", info.id, "--data-dir", second.path])
        #expect(shownHere.stdout.contains("off-site  uploaded  backups/\(info.filename)"), "\(shownHere.stdout)")
        #expect(record.sha256 == info.sha256)
    }

    @Test("offsite.keep_last=2 leaves exactly the two newest bundles and sidecars in the bucket; a pinned one stays")
    func remoteRetention() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("offsite-keep-last")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try configure(directory, moto, extra: ["offsite.keep_last=2"])
        var made: [BackupInfo] = []
        for _ in 0..<4 { made.append(try create(directory)) }
        func remoteNames() async throws -> [String] {
            try await moto.keys(prefix: "backups/").map { String($0.dropFirst("backups/".count)) }.sorted()
        }
        let newest = made.suffix(2).flatMap { [$0.filename, $0.filename + ".sha256"] }.sorted()
        #expect(try await remoteNames() == newest)
        // The older two are still local, their copy gone.
        for info in made.prefix(2) {
            let shown = try json(
                BackupInfo.self, try backup.run(["show", info.id, "--json", "--data-dir", directory.path]))
            #expect(shown.offsite.status == .none, "\(shown.offsite)")
            #expect(shown.status == .completed)
        }

        // A pinned copy holds: pin the newest, make two more.
        #expect(try backup.run(["pin", made[3].id, "--data-dir", directory.path]).status == 0)
        for _ in 0..<2 { made.append(try create(directory)) }
        let kept = [made[3], made[4], made[5]].flatMap { [$0.filename, $0.filename + ".sha256"] }.sorted()
        #expect(try await remoteNames() == kept)
        let dryRun = try backup.run(
            ["remote", "prune", "--dry-run", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        struct Report: Decodable {
            var deleted: [BackupInfo]
            var kept: [String]
        }
        let report = try json(Report.self, dryRun)
        #expect(report.deleted.isEmpty)
        #expect(Set(report.kept) == Set([made[3], made[4], made[5]].map(\.id)))
    }

    @Test("a wrong secret: create still completes locally, its off-site copy failed with the signature named")
    func wrongSecret() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("offsite-wrong-secret")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        try configure(directory, moto, secret: String(moto.credentials.secretAccessKey.reversed()))
        let created = try backup.run(
            ["create", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(created.status == 0, "\(created.stderr)")
        let info = try json(BackupInfo.self, created)
        #expect(info.status == .completed)
        #expect(info.offsite.status == .failed)
        #expect(info.offsite.error?.contains("SignatureDoesNotMatch") == true, "\(info.offsite.error ?? "")")
        // Nothing lost: the local bundle is there and checks out.
        #expect(directory.backupFiles().contains(info.filename))
        let text = try backup.run(["create", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(text.status == 0)
        #expect(text.stdout.contains("off-site: failed"), "\(text.stdout)")
        // The secret is in no output.
        for output in [created.stdout, created.stderr, text.stdout, text.stderr] {
            #expect(!output.contains(moto.credentials.secretAccessKey))
        }
        // A push with the right secret later makes the copy.
        try configure(directory, moto)
        let pushed = try backup.run(
            ["remote", "push", info.id, "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try json(BackupInfo.self, pushed).offsite.status == .uploaded)
        #expect(try await moto.keys(prefix: "backups/").contains("backups/\(info.filename)"))
        // Deleting the backup deletes its copy too, so no look at the bucket brings it back.
        let deleted = try backup.run(
            ["delete", info.id, "--yes", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await moto.keys(prefix: "backups/").filter { $0.contains(info.id) }.isEmpty)
    }
}
