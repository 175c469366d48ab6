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
            output.printJSON(
                Report(
                    deleted: report.deleted, kept: report.keptIDs, dry_run: report.dryRun,
                    repository: report.remoteRepository))
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        for info in report.deleted {
            output.line("\(verb) \(info.id)  \(LocalTime.format(info.createdAt))  \(info.offsite.key ?? info.filename)")
        }
        output.line("\(report.deleted.count) \(verb) from the bucket, \(report.keptIDs.count) kept")
        if let gc = report.remoteRepository, !gc.packsDeleted.isEmpty || gc.packsUnknown > 0 {
            let (packs, freed) = (gc.packsDeleted.count, ByteCount.format(gc.bytesFreed))
            output.line(
                dryRun
                    ? "bucket repository: would delete \(packs) packs, free \(freed)"
                    : "bucket repository: deleted \(packs) packs, freed \(freed)")
            if gc.packsUnknown > 0 {
                output.line(
                    "bucket repository: \(gc.packsUnknown) encrypted packs this catalog does not know were left")
            }
        }
    }

    /// `--json`: the backups deleted and kept, and what the bucket's repository freed (null when
    /// its collection failed).
    struct Report: Encodable {
        var deleted: [BackupInfo]
        var kept: [String]
        var dry_run: Bool
        @ExplicitNull var repository: RemoteRepositoryGCReport?
    }
}
