import ArgumentParser
import BackupCore
import Foundation

struct RemotePruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Apply the off-site retention settings (offsite.keep_*) to the bucket now.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only report what would be deleted.")
    var dryRun = false

    func run() async throws {
        let service = try global.existingService()
        let dryRun = self.dryRun
        let report = try await BlockingWork.run { () async throws(BackupError) in
            try await service.pruneRemote(dryRun: dryRun)
        }
        let output = global.output
        if global.json {
            output.printJSON(PruneCommand.Report(deleted: report.deleted, kept: report.keptIDs, dry_run: report.dryRun))
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        for info in report.deleted {
            output.line("\(verb) \(info.id)  \(LocalTime.format(info.createdAt))  \(info.offsite.key ?? info.filename)")
        }
        output.line("\(report.deleted.count) \(verb) from the bucket, \(report.keptIDs.count) kept")
    }
}
