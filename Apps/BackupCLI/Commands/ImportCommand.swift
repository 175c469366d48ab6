import ArgumentParser
import BackupCore
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify a bundle from elsewhere and add it to the catalog as an imported backup.",
        discussion: """
            The bundle is copied into the data directory's backups/, verified end to end (SHA-256, \
            manifest, integrity_check) and listed under its manifest's id. A bundle that fails \
            verification is refused (exit 3) and nothing is kept.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var keys: KeyOptions

    @Argument(help: "The bundle file (backup-….tar.gz or backup-….tar.zst, .age after it when encrypted).")
    var path: String

    func run() async throws {
        let service = try keys.apply(to: try global.service())
        let bar = global.progressBar
        var info: BackupInfo
        do {
            info = try service.importBundle(from: URL(fileURLWithPath: path)) { bar?.update($0) }
        } catch {
            bar?.finish()
            throw error
        }
        // With off-site copies on, the imported backup is uploaded before the command returns.
        let alerts = AlertNotifier(service: service, backoff: AlertNotifier.commandBackoff)
        let imported = info
        info = try await CancelOnSignal.run {
            await service.uploadIfPending(imported, alerts: alerts) { bar?.update($0) }
        }
        bar?.finish()
        let output = global.output
        if global.json {
            output.printJSON(info)
        } else {
            output.line(
                "imported \(info.id) as \(service.bundleLocation(of: info))")
        }
    }
}
