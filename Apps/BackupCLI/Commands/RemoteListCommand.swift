import ArgumentParser
import BackupCore
import Foundation

struct RemoteListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the backups in the bucket, newest first.",
        discussion: """
            Reads every object under offsite.prefix (the bundles, and the incremental backups whose \
            index is in the bucket's repository; other objects are ignored) and records the backups \
            this data directory does not know as remote-only ones, so that `backup restore ID` and \
            `backup remote pull ID` find them.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let service = try global.service()
        let backups = try await BlockingWork.run { () async throws(BackupError) in
            try await service.syncRemoteCatalog()
            return try await service.remoteBackups()
        }
        let output = global.output
        if global.json {
            output.printJSON(backups)
            return
        }
        guard !backups.isEmpty else {
            output.line("no backups in the bucket")
            return
        }
        var table = Table(headers: ["ID", "CREATED", "TYPE", "FORMAT", "SIZE", "LOCAL"], rightAligned: [4])
        for backup in backups {
            table.rows.append([
                backup.id, LocalTime.format(backup.createdAt), backup.type.rawValue, backup.format.rawValue,
                ByteCount.format(backup.sizeBytes), backup.local ? "yes" : "no",
            ])
        }
        output.line(table.render())
    }
}
