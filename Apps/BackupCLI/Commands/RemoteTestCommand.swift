import ArgumentParser
import BackupCore

/// `backup remote test`: a round trip to the bucket that names what failed.
struct RemoteTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Test the off-site connection: put, read and delete a small object.",
        discussion: """
            Uses the saved offsite.* settings (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the \
            environment override the stored key id and secret), whether or not offsite.enabled is on. \
            Exits 0 when the round trip works; otherwise 1 with the problem named: DNS, connection, \
            TLS, signature (a wrong secret), access key, clock skew, bucket, permission.
            """)

    @OptionGroup var global: GlobalOptions

    struct Outcome: Encodable {
        var ok = true
    }

    func run() async throws {
        let service = try global.readOnlyService()
        try await service.testOffsiteConnection()
        let output = global.output
        if global.json {
            output.printJSON(Outcome())
        } else {
            output.line("off-site storage works: a test object was written, read back and deleted")
        }
    }
}
