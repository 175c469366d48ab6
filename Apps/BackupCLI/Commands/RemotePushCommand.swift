import ArgumentParser
import BackupCore
import Foundation

struct RemotePushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload a backup to the bucket now (a retry of a failed or pending upload).",
        discussion: "Progress on standard error; exit 1 when the upload fails (the local backup stays as it is).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    func run() async throws {
        let service = try global.existingService()
        let id = try service.catalog.resolveID(id)
        let alerts = AlertNotifier(service: service, backoff: AlertNotifier.commandBackoff)
        let info = try await global.withProgress { progress in
            try await BlockingWork.run { () async throws(BackupError) in
                try await service.push(id: id, alerts: alerts, progress: progress)
            }
        }
        let output = global.output
        if global.json {
            output.printJSON(info)
        } else {
            output.line("\(output.paint("uploaded", .green)) \(info.id)  \(info.offsite.key ?? "")")
        }
    }
}
