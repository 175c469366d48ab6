import ArgumentParser
import BackupCore
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-read a bundle: its SHA-256, manifest, entry hashes and the database's integrity_check.",
        discussion: """
            A PostgreSQL dump (database.pgdump) is checked by pg_restore --list instead of \
            integrity_check; a missing pg_restore is an error naming postgresql-client (exit 1), never \
            a failed verification. Exits 3 when a bundle does not verify.

            An incremental backup gets a structure check: its index reads and is its own, and \
            every chunk it names is in a pack that is there with its recorded size (no chunk is \
            read). --read-data reads every byte: the backup is exported to a bundle in .tmp/ \
            (each chunk checked against its SHA-256) and that bundle verified as above. A bundle \
            backup is always read whole.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var keys: KeyOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String?

    @Flag(help: "Verify every completed backup.")
    var all = false

    @Flag(help: "Read every chunk of an incremental backup, not only its structure.")
    var readData = false

    func validate() throws {
        if all == (id != nil) { throw ValidationError("give a backup id or --all, not both or neither") }
    }

    struct Result: Encodable {
        var id: String
        var valid: Bool
        var status: VerificationResult.Verdict
        var problem: String?
    }

    func run() async throws {
        let service = try keys.apply(to: try global.existingService())
        let bar = global.progressBar
        let output = global.output
        var results: [Result] = []
        if let id {
            let id = try service.catalog.resolveID(id)
            do {
                _ = try await CancelOnSignal.run {
                    try await service.verify(id: id, readData: readData) { bar?.update($0) }
                }
                results.append(Result(id: id, valid: true, status: .verified))
            } catch BackupError.verificationFailed(let reason) {
                let missing = (try? service.catalog.record(id: id).status) == .missing
                results.append(Result(id: id, valid: false, status: missing ? .missing : .failed, problem: reason))
            }
        } else {
            let all = try await CancelOnSignal.run {
                try await service.verifyAll(readData: readData) { bar?.update($0) }
            }
            results = all.map {
                Result(id: $0.info.id, valid: $0.verdict == .verified, status: $0.verdict, problem: $0.problem)
            }
        }
        bar?.finish()
        if global.json {
            if id != nil, let only = results.first { output.printJSON(only) } else { output.printJSON(results) }
        } else {
            for result in results {
                switch result.status {
                case .verified: output.line("\(output.paint("ok", .green))       \(result.id)")
                case .missing: output.line("\(output.paint("MISSING", .red))  \(result.id): \(result.problem ?? "")")
                case .failed: output.line("\(output.paint("FAILED", .red))   \(result.id): \(result.problem ?? "")")
                }
            }
            if id == nil {
                let count = { (verdict: VerificationResult.Verdict) in results.filter { $0.status == verdict }.count }
                output.line("\(count(.verified)) verified, \(count(.failed)) failed, \(count(.missing)) missing")
            }
        }
        if results.contains(where: { !$0.valid }) { throw CommandFailure(status: ExitStatus.verificationFailed) }
    }
}
