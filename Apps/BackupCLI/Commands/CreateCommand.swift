import ArgumentParser
import BackupCore
import Foundation

struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Back up the database and/or the file directories now (Ctrl-C cancels and leaves nothing behind).",
        discussion: """
            --scope database backs up the database alone, files the configured directories alone \
            (settings directories), full both; without --scope the settings' default_scope decides \
            (automatic: full when directories are configured, else database).

            A PostgreSQL database (--database postgresql://USER@HOST:PORT/DBNAME) is dumped by \
            pg_dump --format=custom (one consistent snapshot; writers never wait) into the bundle as \
            database.pgdump; the password comes from the URL, PGPASSWORD or ~/.pgpass and reaches \
            pg_dump only through its environment.


            With off-site copies on (offsite.enabled), the bundle is uploaded before the command \
            returns; a failed upload does not fail the backup (off-site status failed, retried later).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "A note stored with the backup (at most 500 characters).")
    var note: String?

    @Option(help: "What to back up: database, files or full (default: the settings' default_scope).")
    var scope: BackupScope?

    func run() async throws {
        let service = try global.service()
        // The webhook hears about a failure too; a short retry schedule keeps the command quick.
        let alerts = AlertNotifier(service: service, backoff: AlertNotifier.commandBackoff)
        let info = try await global.withProgress { progress in
            try await service.createBackup(type: .manual, note: note, scope: scope, alerts: alerts, progress: progress)
        }
        let output = global.output
        if global.json {
            output.printJSON(info)
        } else {
            output.line(
                "\(output.paint("created", .green)) \(info.id)  \(ByteCount.format(info.sizeBytes ?? 0))  \(info.scope.rawValue)"
            )
            for warning in info.sourceWarnings { output.line("\(output.paint("!", .red)) \(warning)") }
            output.line(service.bundleLocation(of: info))
            switch info.offsite.status {
            case .none: break
            case .uploaded: output.line("off-site: uploaded \(info.offsite.key ?? "")")
            case .failed: output.line("off-site: \(output.paint("failed", .red)): \(info.offsite.error ?? "")")
            case .pending, .uploading: output.line("off-site: \(info.offsite.status.rawValue) (retried later)")
            }
        }
    }
}

/// Runs work in a task that SIGINT and SIGTERM cancel, so an interrupted job cleans up after
/// itself (partial files removed, record marked cancelled) before the process exits.
enum CancelOnSignal {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }
        return try await task.value
    }
}
