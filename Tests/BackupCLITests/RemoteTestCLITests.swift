import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup remote test, as a real process against a real S3 server (moto, signatures checked)", .serialized)
struct RemoteTestCLITests {
    let backup = try! ChildProcess(product: "backup")
    static let noEnvironment = MotoServer.noEnvironment

    func configure(_ directory: TemporaryDirectory, _ moto: MotoServer, secret: String) throws {
        // Saved but not enabled: `remote test` tests the saved settings either way.
        let set = try moto.configure(directory, with: backup, enabled: false, secret: secret)
        #expect(set.status == 0, "\(set.stderr)")
    }

    @Test("with the right key it exits 0; with a wrong secret it exits 1 naming the signature problem")
    func rightAndWrongSecret() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("cli-remote-test")
        try configure(directory, moto, secret: moto.credentials.secretAccessKey)
        let ok = try backup.run(["remote", "test", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(ok.status == 0, "\(ok.stderr)")
        let json = try backup.run(
            ["remote", "test", "--json", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(json.status == 0, "\(json.stderr)")
        struct Outcome: Decodable { var ok: Bool }
        #expect(try JSONDecoder().decode(Outcome.self, from: Data(json.stdout.utf8)).ok)

        try configure(directory, moto, secret: "WrongSecret0123456789")
        let wrong = try backup.run(["remote", "test", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("signature"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("WrongSecret0123456789"))

        // The environment's key wins over the stored (wrong) one.
        let fromEnvironment = try backup.run(
            ["remote", "test", "--data-dir", directory.path],
            environment: ["AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey, "AWS_ACCESS_KEY_ID": ""])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
    }

    @Test("without settings it exits 2 naming what is missing")
    func notConfigured() throws {
        let directory = TemporaryDirectory("cli-remote-test-empty")
        #expect(try backup.run(["settings", "set", "offsite.prefix=x", "--data-dir", directory.path]).status == 0)
        let result = try backup.run(["remote", "test", "--data-dir", directory.path], environment: Self.noEnvironment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("offsite.endpoint") && result.stderr.contains("offsite.bucket"))
    }
}
