import BackupCore
import Foundation
import TestSupport
import Testing

/// Encrypted bundles off-site: the real `backup` executable and a real S3 server (moto).
@Suite("encrypted bundles in the off-site bucket, as real processes", .serialized)
struct EncryptionOffsiteCLITests {
    let backup = try! ChildProcess(product: "backup")

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    @Test(
        "acceptance: the uploaded object is the ciphertext, byte for byte; an empty data directory restores it from the bucket with --identity"
    )
    func uploadedCiphertextAndRemoteRestore() async throws {
        let moto = try await MotoServer()
        let first = TemporaryDirectory("enc-offsite-a")
        try SampleDatabase.create(at: first.dataDirectory.database, megabytes: 2)
        #expect(try backup.run(["key", "generate", "--data-dir", first.path]).status == 0)
        let set = try moto.configure(first, with: backup, extra: ["encryption.enabled=true"])
        #expect(set.status == 0, "\(set.stderr)")
        let created = try backup.run(
            ["create", "--json", "--data-dir", first.path], environment: MotoServer.noEnvironment)
        #expect(created.status == 0, "\(created.stderr)")
        let info = try json(BackupInfo.self, created)
        #expect(info.encrypted && info.offsite.status == .uploaded, "\(info.offsite)")

        let local = try Data(contentsOf: first.url.appendingPathComponent("backups/\(info.filename)"))
        #expect(local.starts(with: Array("age-encryption.org/v1\n".utf8)))
        let object = try await moto.read(key: "backups/\(info.filename)")
        #expect(object.size == Int64(local.count))
        #expect(object.sha256 == info.sha256, "the object is the local file, the ciphertext")
        #expect(object.content_type == "application/octet-stream")

        // A new machine: the bucket and the key kept elsewhere.
        let second = TemporaryDirectory("enc-offsite-b")
        #expect(try moto.configure(second, with: backup).status == 0)
        let listed = try backup.run(
            ["remote", "list", "--json", "--data-dir", second.path], environment: MotoServer.noEnvironment)
        let remote = try json([RemoteBackup].self, listed)
        #expect(remote.map(\.id) == [info.id])
        let refused = try backup.run(
            ["restore", info.id, "--yes", "--data-dir", second.path], environment: MotoServer.noEnvironment)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: second.dataDirectory.database.path))
        let restored = try backup.run(
            ["restore", info.id, "--yes", "--identity", first.dataDirectory.backupKey.path, "--data-dir", second.path],
            environment: MotoServer.noEnvironment)
        #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")
        #expect(
            try TestDB.fingerprint(second.dataDirectory.database.path)
                == TestDB.fingerprint(first.dataDirectory.database.path))
        moto.stop()
    }
}
