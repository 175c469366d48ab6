import ArgumentParser
import BackupCore
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-read a bundle: its SHA-256, manifest, entry hashes and the database's integrity_check.",
        discussion: "Exits 3 when a bundle does not verify.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id.")
    var id: String?

    @Flag(help: "Verify every completed backup.")
    var all = false

    func validate() throws {
        if all == (id != nil) { throw ValidationError("give a backup id or --all, not both or neither") }
    }

    struct Result: Encodable {
        var id: String
        var valid: Bool
        var problem: String?
    }

    func run() async throws {
        let service = try global.service()
        let bar = global.progressBar
        let output = global.output
        var results: [Result] = []
        if let id {
            do {
                _ = try await CancelOnSignal.run { try await service.verify(id: id) { bar?.update($0) } }
                results.append(Result(id: id, valid: true))
            } catch BackupError.verificationFailed(let reason) {
                results.append(Result(id: id, valid: false, problem: reason))
            }
        } else {
            let all = try await CancelOnSignal.run { try await service.verifyAll { bar?.update($0) } }
            for (info, outcome) in all {
                switch outcome {
                case .success: results.append(Result(id: info.id, valid: true))
                case .failure(let error):
                    results.append(Result(id: info.id, valid: false, problem: error.message))
                }
            }
        }
        bar?.finish()
        if global.json {
            if id != nil, let only = results.first { output.printJSON(only) } else { output.printJSON(results) }
        } else {
            for result in results {
                if result.valid {
                    output.line("\(output.paint("ok", .green))      \(result.id)")
                } else {
                    output.line("\(output.paint("FAILED", .red))  \(result.id): \(result.problem ?? "")")
                }
            }
            if results.isEmpty { output.line("no completed backups to verify") }
        }
        if results.contains(where: { !$0.valid }) { throw CommandFailure(status: ExitStatus.verificationFailed) }
    }
}
