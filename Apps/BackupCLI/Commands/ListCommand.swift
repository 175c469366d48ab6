import ArgumentParser
import BackupCore
import Foundation

extension BackupType: ExpressibleByArgument {}
extension BackupStatus: ExpressibleByArgument {}
extension BackupScope: ExpressibleByArgument {}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List backups, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only this type (\(BackupType.allCases.map(\.rawValue).joined(separator: ", "))).")
    var type: BackupType?

    @Option(help: "Only this status (\(BackupStatus.allCases.map(\.rawValue).joined(separator: ", "))).")
    var status: BackupStatus?

    @Option(help: "Only this scope (\(BackupScope.allCases.map(\.rawValue).joined(separator: ", "))).")
    var scope: BackupScope?

    @Option(help: "At most this many (1-\(BackupQuery.maximumLimit)).")
    var limit = BackupQuery.defaultLimit

    func validate() throws {
        guard (1...BackupQuery.maximumLimit).contains(limit) else {
            throw ValidationError("--limit must be between 1 and \(BackupQuery.maximumLimit)")
        }
    }

    func run() async throws {
        let service = try global.readOnlyService()
        let page = try service.catalog.page(BackupQuery(limit: limit, type: type, status: status, scope: scope))
        let output = global.output
        if global.json {
            output.printJSON(page.items)
            return
        }
        guard !page.items.isEmpty else {
            output.line("no backups")
            return
        }
        var table = Table(
            headers: ["ID", "CREATED", "TYPE", "SCOPE", "STATUS", "SIZE", "PIN", "ENC", "NOTE"], rightAligned: [5])
        for info in page.items {
            table.rows.append([
                info.id, LocalTime.format(info.createdAt), info.type.rawValue, info.scope.rawValue,
                output.paint(statusOf: info) + (info.store == S3Store.storeName ? " (bucket only)" : ""),
                info.sizeBytes.map(ByteCount.format) ?? "-", info.pinned ? "yes" : "", info.encrypted ? "age" : "",
                info.noteText ?? "",
            ])
        }
        output.line(table.render())
        for info in page.items {
            if let warning = output.warning(for: info) {
                output.line("\(output.paint("!", .red)) \(info.id): \(warning)")
            }
        }
        if page.nextCursor != nil {
            output.note("(showing the newest \(page.items.count); use --limit for more)")
        }
    }
}
