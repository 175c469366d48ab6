import ArgumentParser
import BackupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Global options may come before the subcommand (`backup --data-dir D list`); ArgumentParser
// reads them after it, so they are moved there first.
let arguments = GlobalOptions.movingLeadingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
// The core's loggers (off-site, retention) write to standard error, in the format asked for
// (`--log-format` is validated with the other options: a bad value is a usage error).
let environment = ProcessInfo.processInfo.environment
(LogFormat.requested(in: arguments, environment: environment) ?? .text).bootstrap(
    level: environment["BACKUP_LOG_LEVEL"], textToStandardError: true)
exit(await BackupCommand.runAndMapExitCode(arguments))
