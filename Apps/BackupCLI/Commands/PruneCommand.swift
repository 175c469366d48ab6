import ArgumentParser
import BackupCore
import Foundation

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Apply the retention settings now.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only report what would be deleted.")
    var dryRun = false

    struct Report: Encodable {
        var deleted: [BackupInfo]
        var kept: [String]
        var dry_run: Bool
    }

    func run() async throws {
        let report = try global.existingService().prune(dryRun: dryRun)
        let output = global.output
        if global.json {
            output.printJSON(Report(deleted: report.deleted, kept: report.keptIDs, dry_run: report.dryRun))
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        for info in report.deleted {
            output.line(
                "\(verb) \(info.id)  \(LocalTime.format(info.createdAt))  \(info.type.rawValue)  \(info.status.rawValue)"
            )
        }
        output.line("\(report.deleted.count) \(verb), \(report.keptIDs.count) kept")
    }
}
