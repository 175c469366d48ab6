import ArgumentParser
import BackupCore
import Foundation

/// `backup`: the command-line face of Backup Manager.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Consistent backups of a live SQLite database.",
        discussion: """
            Global options (--data-dir, --database, --json, --no-color, --quiet) go before or after \
            the subcommand. Exit codes: 0 done, 1 failed, 2 usage, 3 verification failed, 4 busy, \
            5 refused because a backup-api server holds the data directory.
            """,
        version: BackupManagerVersion.current,
        subcommands: [
            CreateCommand.self, ListCommand.self, ShowCommand.self, VerifyCommand.self, DeleteCommand.self,
            PinCommand.self, UnpinCommand.self, PruneCommand.self, StatsCommand.self, SettingsCommand.self,
            RestoreCommand.self, ImportCommand.self,
        ]
    )

    /// Parses `arguments`, runs the command and returns the process exit code.
    static func runAndMapExitCode(_ arguments: [String]) async -> Int32 {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return ExitStatus.usage
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return 0
        } catch let error as CommandFailure {
            return error.status
        } catch let error as BackupError {
            Output(json: arguments.contains("--json"), color: false).error(error)
            return ExitStatus.of(error)
        } catch let error as ExitCode {
            return error.rawValue
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return ExitStatus.failed
        }
    }
}
