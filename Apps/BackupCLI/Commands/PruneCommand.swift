import ArgumentParser
import BackupCore
import Foundation

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Apply the retention settings now, then free the repository's unused packs.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only report what would be deleted and freed.")
    var dryRun = false

    struct Report: Encodable {
        var deleted: [BackupInfo]
        var kept: [String]
        var dry_run: Bool
        @ExplicitNull var repository: RepositoryGCReport?
    }

    func run() async throws {
        let report = try global.existingService().prune(dryRun: dryRun)
        let output = global.output
        if global.json {
            output.printJSON(
                Report(
                    deleted: report.deleted, kept: report.keptIDs, dry_run: report.dryRun,
                    repository: report.repository))
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        for info in report.deleted {
            output.line(
                "\(verb) \(info.id)  \(LocalTime.format(info.createdAt))  \(info.type.rawValue)  \(info.status.rawValue)"
            )
        }
        output.line("\(report.deleted.count) \(verb), \(report.keptIDs.count) kept")
        if let gc = report.repository {
            let freed = ByteCount.format(gc.bytesFreed)
            output.line(
                dryRun
                    ? "repository: would delete \(gc.packsDeleted) packs, repack \(gc.packsRepacked), free \(freed)"
                    : "repository: deleted \(gc.packsDeleted) packs, repacked \(gc.packsRepacked), freed \(freed)")
            if gc.packsRecovered > 0 {
                output.line("repository: \(gc.packsRecovered) packs without rows recorded again")
            }
            for pack in gc.packsLost { output.line("repository: pack \(pack) is gone") }
            for id in gc.backupsMissing { output.line("missing \(id): a chunk it needs was in a pack that is gone") }
        }
    }
}
