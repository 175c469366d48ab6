import ArgumentParser
import BackupCore
import Foundation

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Counts, bytes on disk, last success and failure, the last retention failure.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let stats = try global.readOnlyService().stats()
        let output = global.output
        if global.json {
            output.printJSON(stats)
            return
        }
        func counts(_ values: [String: Int]) -> String {
            values.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ")
        }
        output.line("backups       \(stats.count)")
        output.line("by type       \(counts(stats.countsByType))")
        output.line("by status     \(counts(stats.countsByStatus))")
        output.line("total size    \(ByteCount.format(stats.totalBytes))")
        output.line("last success  \(LocalTime.format(stats.lastSuccessAt))")
        output.line("last failure  \(LocalTime.format(stats.lastFailureAt))")
        output.line("next auto     \(stats.nextAutoAt.map { LocalTime.format($0) } ?? "off")")
        for scope in BackupScope.allCases {
            guard let figures = stats.scopes[scope.rawValue], figures.count > 0 else { continue }
            let name = "scope \(scope.rawValue)".padding(toLength: 14, withPad: " ", startingAt: 0)
            output.line(
                "\(name)\(figures.count), \(ByteCount.format(figures.totalBytes)), last success "
                    + LocalTime.format(figures.lastSuccessAt))
        }
        if let failure = stats.lastRetentionFailure {
            output.line(
                "retention     \(output.paint("failed", .red)) \(LocalTime.format(failure.failedAt)): \(failure.error)")
        }
    }
}
