import ArgumentParser
import BackupCore
import Foundation

struct RemotePullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a backup from the bucket into backups/ (its SHA-256 checked).",
        discussion: """
            A backup the catalog does not know yet is looked up in the bucket first. An incremental \
            backup is fetched into the local repository (backups/repository/): its index and only \
            the packs the local repository lacks; an encrypted one needs a key that opens the \
            repository's key (the data directory's, --identity or --passphrase-file).
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var keys: KeyOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    func run() async throws {
        let service = try keys.apply(to: try global.service())
        let id = try await RemoteLookup.resolve(id, in: service)
        let info = try await global.withProgress { progress in
            try await BlockingWork.run { () async throws(BackupError) in
                try await service.pull(id: id, progress: progress)
            }
        }
        let output = global.output
        if global.json {
            output.printJSON(info)
        } else {
            output.line("\(output.paint("pulled", .green)) \(info.id)  \(ByteCount.format(info.sizeBytes ?? 0))")
            output.line(service.bundleLocation(of: info))
        }
    }
}

/// Resolves an id given to the CLI, looking in the bucket (``BackupService/syncRemoteCatalog()``)
/// when the catalog does not know it and off-site copies are on: a new machine's restore.
enum RemoteLookup {
    static func resolve(_ text: String, in service: BackupService) async throws -> String {
        do {
            return try service.catalog.resolveID(text)
        } catch .notFound {
            guard try service.offsiteTarget() != nil else { throw BackupError.notFound(id: text) }
            try await BlockingWork.run { () async throws(BackupError) in _ = try await service.syncRemoteCatalog() }
            return try service.catalog.resolveID(text)
        }
    }
}
