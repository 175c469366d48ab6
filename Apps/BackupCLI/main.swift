import ArgumentParser
import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

// Global options may come before the subcommand (`backup --data-dir D list`); ArgumentParser
// reads them after it, so they are moved there first.
let arguments = GlobalOptions.movingLeadingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
exit(await BackupCommand.runAndMapExitCode(arguments))
