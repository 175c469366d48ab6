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

    @Argument(help: "The bundle file (backup-….tar.gz or backup-….tar.zst).")
    var path: String

    func run() async throws {
        let service = try global.service()
        let bar = global.progressBar
        let info: BackupInfo
        do {
            info = try service.importBundle(from: URL(fileURLWithPath: path)) { bar?.update($0) }
        } catch {
            bar?.finish()
            throw error
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
