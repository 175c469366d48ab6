import ArgumentParser
import BackupCore
import Foundation

struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Back up the database now (Ctrl-C cancels and leaves nothing behind).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "A note stored with the backup.")
    var note: String?

    func validate() throws {
        if let note, note.count > 1000 { throw ValidationError("--note is limited to 1000 characters") }
    }

    func run() async throws {
        let service = try global.service()
        let bar = global.progressBar
        let info: BackupInfo
        do {
            info = try await CancelOnSignal.run {
                try await service.createBackup(type: .manual, note: note) { bar?.update($0) }
            }
        } catch let error as BackupError where error != .cancelled && error != .backupInProgress {
            bar?.finish()
            // The webhook hears about it too; the CLI waits for the first attempt at most.
            let latest = try? service.catalog.page(BackupQuery(limit: 1)).items.first
            let delivery = AlertNotifier(catalog: service.catalog).backupFailed(
                latest?.status == .failed ? latest : nil, message: error.message)
            if let delivery { try? await withTimeout(seconds: 12) { _ = await delivery.value } }
            throw error
        }
        bar?.finish()
        let output = global.output
        if global.json {
            output.printJSON(info)
        } else {
            output.line("\(output.paint("created", .green)) \(info.id)  \(ByteCount.format(info.sizeBytes ?? 0))")
            output.line(global.dataDirectory.backups.appendingPathComponent(info.filename).path)
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

/// Runs `work`, giving up after `seconds`.
func withTimeout(seconds: Double, _ work: @escaping @Sendable () async -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await work() }
        group.addTask { try await Task.sleep(for: .seconds(seconds)) }
        try await group.next()
        group.cancelAll()
    }
}
