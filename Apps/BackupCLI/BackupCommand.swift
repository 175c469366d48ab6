import ArgumentParser
import BackupCore
import Foundation

/// `backup`: the command-line face of Backup Manager.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Consistent backups of SQLite or PostgreSQL databases and their files.",
        discussion: """
            Global options (--data-dir, --database, --json, --no-color, --quiet, --log-format) go before or after \
            the subcommand. Exit codes: 0 done, 1 failed, 2 usage, 3 verification failed, 4 busy, \
            5 refused because a backup-api server holds the data directory.
            """,
        version: BackupManagerVersion.current,
        subcommands: [
            CreateCommand.self, ListCommand.self, ShowCommand.self, VerifyCommand.self, DeleteCommand.self,
            PinCommand.self, UnpinCommand.self, PruneCommand.self, StatsCommand.self, SettingsCommand.self,
            RestoreCommand.self, ImportCommand.self, ExportCommand.self, RemoteCommand.self, KeyCommand.self,
            DoctorCommand.self,
        ]
    )

    /// Parses `arguments`, runs the command and returns the process exit code.
    static func runAndMapExitCode(_ arguments: [String]) async -> Int32 {
        do {
            let command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return 0
        } catch {
            return finish(with: error, arguments: arguments)
        }
    }

    /// Prints what `error` stands for and returns the exit status: help, version and completion
    /// requests (which argument-parser throws, from parsing or from the command it chose) print
    /// to standard output and exit 0; every failure goes through one ``ErrorReport``.
    static func finish(with error: any Error, arguments: [String]) -> Int32 {
        switch error {
        case let failure as CommandFailure:
            return failure.status
        case let code as ExitCode:
            return code.rawValue
        case _ where exitCode(for: error) == .success:
            print(fullMessage(for: error))
            return 0
        default:
            let options = arguments.prefix { $0 != "--" }
            let report = ErrorReport(error)
            report.write(
                json: options.contains("--json"),
                color: !options.contains("--no-color") && Terminal.isTerminal(.standardError) && Terminal.allowsColor)
            return report.status
        }
    }
}
