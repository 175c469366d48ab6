import ArgumentParser
import BackupCore
import Foundation

/// `backup doctor`: checks a data directory and what it depends on, one line per check.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the data directory, database, secret files, schedule and off-site target.",
        discussion: """
            Prints one line per check, OK, WARN or FAIL, with a fix under each that needs one. \
            Changes nothing (the off-site check only lists the bucket). Exit 0 when nothing \
            failed (warnings included), 1 when a check failed.
            """)

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        var healthy: Bool
        var checks: [HealthCheck]
    }

    func run() async throws {
        let checks = try await HealthChecks(dataDirectory: try global.dataDirectory).run()
        let output = global.output
        if global.json {
            output.printJSON(Report(healthy: checks.healthy, checks: checks))
        } else {
            for check in checks {
                let mark =
                    switch check.status {
                    case .ok: output.paint("OK  ", .green)
                    case .warn: output.paint("WARN", .yellow)
                    case .fail: output.paint("FAIL", .red)
                    }
                output.line("\(mark) \(check.name): \(check.detail)")
                if let fix = check.fix, check.status != .ok { output.line("     fix: \(fix)") }
            }
        }
        if !checks.healthy { throw CommandFailure(status: ExitStatus.failed) }
    }
}
