import ArgumentParser
import BackupCore
import Foundation

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a backup: its bundle, sidecar and record.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let service = try global.existingService()
        let record = try service.catalog.record(matching: id)
        let output = global.output
        if !yes {
            guard Terminal.isTerminal(.standardError), !global.json else {
                throw Refusal.confirmationRequired("refusing to delete without confirmation; pass --yes")
            }
            let answer = Terminal.readLine(prompt: "Delete backup \(record.id) (\(record.filename))? [y/N] ")
            guard let answer, ["y", "yes"].contains(answer.lowercased()) else {
                throw Refusal.declined("not deleted")
            }
        }
        // Blocking work (the off-site copy goes too) off the cooperative pool.
        let id = record.id
        try await BlockingWork.run { () throws(BackupError) in try service.delete(id: id) }
        if global.json {
            output.printJSON(["deleted": record.id])
        } else {
            output.line("deleted \(record.id)")
        }
    }
}
