import ArgumentParser
import BackupCore
import Foundation

/// Options every subcommand accepts, before or after its name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (env BACKUP_DATA_DIR).")
    var dataDir: String = ProcessInfo.processInfo.environment["BACKUP_DATA_DIR"] ?? "data"

    @Option(
        name: .customLong("database"),
        help: """
            The protected database: a SQLite path or a postgresql://USER@HOST:PORT/DBNAME URL \
            (env BACKUP_DATABASE; default DATA_DIR/app.sqlite). Keep a password out of it: \
            PGPASSWORD or ~/.pgpass.
            """)
    var databaseOption: String?

    var database: String? { databaseOption ?? ProcessInfo.processInfo.environment["BACKUP_DATABASE"] }

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    @Flag(name: .long, help: "Never colour the output (colour is only used on a terminal anyway).")
    var noColor = false

    @Flag(name: .long, help: "Print only results and errors, no progress.")
    var quiet = false

    @Option(
        name: .long,
        help: "Log lines on stderr as text or json (one JSON object per line) (env BACKUP_LOG_FORMAT).")
    var logFormat: String = LogFormat.environmentValue

    /// The data directory and where its database lives (a SQLite path or a PostgreSQL URL);
    /// ``validate()`` has already refused a `--database` that does not parse.
    var dataDirectory: DataDirectory {
        get throws(BackupError) { try DataDirectory(root: dataDir, parsingDatabase: database) }
    }

    /// A `--database` (or `BACKUP_DATABASE`) that does not parse is a usage error naming where it
    /// came from (exit 2; the core's reason never holds the password). A password given in argv
    /// is visible to every user in the process listing: warned about on standard error.
    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError(LogFormat.usage) }
        let location: DatabaseLocation
        do throws(BackupError) {
            location = try dataDirectory.location
        } catch .invalidInput(let fields) {
            let source = databaseOption != nil ? "--database" : "BACKUP_DATABASE"
            throw ValidationError("invalid \(source): " + fields.values.sorted().joined(separator: "; "))
        }
        if databaseOption != nil, case .postgres(let url) = location, url.hasPassword {
            FileHandle.standardError.write(Data((Self.passwordInArgumentsWarning("--database") + "\n").utf8))
        }
    }

    /// The warning for a PostgreSQL password given on the command line (`option` names where).
    static func passwordInArgumentsWarning(_ option: String) -> String {
        "warning: the password in \(option) is visible to every user of this machine in the process "
            + "listing; give it through PGPASSWORD, ~/.pgpass or BACKUP_DATABASE instead"
    }

    /// A service for the commands that may start a data directory: `create`, `import`,
    /// `settings set`.
    func service() throws -> BackupService {
        try BackupService(dataDirectory: try dataDirectory)
    }

    /// A service for commands that work on existing backups (`verify`, `delete`, `pin`, `prune`,
    /// `restore`): a data directory that does not exist is an error, not created.
    func existingService() throws -> BackupService {
        try dataDirectory.requireExisting()
        return try service()
    }

    /// A service for commands that only read (`list`, `show`, `stats`, `settings show`): the data
    /// directory must exist, the catalog is opened read-only, and nothing is created or written.
    func readOnlyService() throws -> BackupService {
        try BackupService(readingFrom: try dataDirectory)
    }

    var output: Output {
        Output(json: json, color: !noColor && Terminal.isTerminal(.standardOutput) && Terminal.allowsColor)
    }

    /// A progress bar on standard error when it is a terminal and neither --quiet nor --json.
    var progressBar: ProgressBar? {
        guard !quiet, !json, Terminal.isTerminal(.standardError) else { return nil }
        return ProgressBar()
    }

    /// Runs a job's `work` with a progress bar on standard error (when one is shown), cancelled
    /// by SIGINT or SIGTERM (``CancelOnSignal``); the bar is finished whatever the outcome.
    func withProgress<T: Sendable>(
        _ work: @escaping @Sendable (_ progress: @escaping @Sendable (JobProgress) -> Void) async throws -> T
    ) async throws -> T {
        let bar = progressBar
        defer { bar?.finish() }
        return try await CancelOnSignal.run { try await work { bar?.update($0) } }
    }

    static let valued: Set<String> = ["--data-dir", "--database", "--log-format"]
    static let flags: Set<String> = ["--json", "--no-color", "--quiet"]

    /// Moves global options that precede the subcommand to the end of the arguments.
    static func movingLeadingGlobalOptions(_ arguments: [String]) -> [String] {
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flags.contains(argument) {
                moved.append(argument)
                index += 1
            } else if valued.contains(name), argument.contains("=") {
                moved.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.count {
                moved += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        return Array(arguments[index...]) + moved
    }
}
