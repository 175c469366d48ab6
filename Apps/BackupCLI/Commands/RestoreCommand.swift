import ArgumentParser
import BackupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension RestorePart: ExpressibleByArgument {}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the database and directories with a backup (maintenance: the server must be stopped).",
        discussion: """
            Verifies the bundle first, takes the database's write lock (waiting at most \
            restore_lock_timeout_seconds for the application's transactions; exit 4 after that, \
            nothing changed), takes a pre-restore safety backup of the current database (unless \
            --no-safety-backup) and replaces the database through SQLite's backup API under that \
            one lock, then runs integrity_check. A backup known only in the off-site bucket (a new \
            machine) is looked up there and downloaded with its SHA-256 checked. An encrypted bundle \
            opens with DATA_DIR/backup-key, BACKUP_PASSPHRASE, encryption.passphrase_file, or the \
            keys --identity and --passphrase-file give; without one the restore is refused (exit 3) \
            before the database is touched. Asks you to type the backup id unless --yes. Exits 5 while a \
            backup-api serves the data directory, 3 when the bundle does not verify.

            A bundle with directories (scope files or full) restores them too: each goes back to the \
            configured directory with the same path (else the same name; a directory not configured \
            refuses the restore, exit 1), extracted next to it as DIR.restore-ID and checked, then \
            swapped in with renames right before the database; the old tree, moved to \
            DIR.pre-restore-ID, is removed once the restore succeeded (kept with --keep-old). A crash \
            leaves each directory old or new; the next command that takes the job lock finishes or \
            rolls back. --only database or --only files restores one part alone.

            A PostgreSQL database (--database postgresql://…) is restored by pg_restore --clean \
            --if-exists --no-owner --single-transaction --exit-on-error after a pre-restore safety \
            dump: a failure rolls back and leaves the old data; objects created since the backup \
            and not in it stay. --target-url URL restores into that database instead, a rehearsal \
            (the live database untouched, no safety backup).
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var keys: KeyOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String?

    @Option(help: "Restore from this bundle file instead of a backup in the catalog.")
    var file: String?

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Do not take a pre-restore safety backup first.")
    var noSafetyBackup = false

    @Option(help: "Restore only this part of the bundle: database or files.")
    var only: RestorePart?

    @Flag(help: "Keep each directory's old tree as DIR.pre-restore-ID instead of removing it.")
    var keepOld = false

    @Option(
        name: .customLong("target-url"),
        help: """
            PostgreSQL: restore into this database (postgresql://USER@HOST:PORT/DBNAME, existing) \
            instead of the live one, a rehearsal.
            """)
    var targetURLText: String?

    /// `--target-url`, parsed (``validate()`` has refused one that does not parse).
    var targetURL: PostgresURL? {
        get throws(BackupError) {
            try targetURLText.map { (text) throws(BackupError) in try PostgresURL(parsing: text) }
        }
    }

    func validate() throws {
        if (id == nil) == (file == nil) {
            throw ValidationError("give a backup id or --file PATH, not both or neither")
        }
        let target: PostgresURL?
        do throws(BackupError) {
            target = try targetURL
        } catch .invalidInput(let fields) {
            throw ValidationError("invalid --target-url: " + fields.values.sorted().joined(separator: "; "))
        }
        if target?.hasPassword == true {
            FileHandle.standardError.write(Data((GlobalOptions.passwordInArgumentsWarning("--target-url") + "\n").utf8))
        }
    }

    func run() async throws {
        let service = try keys.apply(to: try global.existingService())
        try service.ensureNoServerRunning()
        let output = global.output
        if !yes, isatty(STDIN_FILENO) != 1 {
            throw Refusal.confirmationRequired(
                "refusing to restore without confirmation; run it on a terminal or pass --yes")
        }
        let source: RestoreSource
        if let id {
            source = .backup(id: try await RemoteLookup.resolve(id, in: service))
        } else {
            source = .file(URL(fileURLWithPath: file!))
        }
        let rehearsal = try targetURL
        let bar = global.progressBar
        let report: @Sendable (RestoreStep) -> Void = { step in
            switch step {
            case .verifying(let progress), .safetyBackup(let progress), .extracting(let progress):
                bar?.update(progress)
            case .waitingForLock:
                bar?.finish()
                if !global.quiet, !global.json { output.note("waiting for the database's write lock…") }
            case .replacing:
                bar?.finish()
                if !global.quiet, !global.json { output.note("replacing the database…") }
            }
        }
        // Blocking work (a remote-only backup is downloaded through its store) off the cooperative pool.
        let prepared = try await BlockingWork.run { () throws(BackupError) in
            try service.prepareRestore(
                source, options: RestoreOptions(only: only, keepOld: keepOld, targetURL: rehearsal), progress: report)
        }
        bar?.finish()
        let target = prepared.backupID ?? prepared.manifest.id
        // The database by its path, or its URL without the password (the rehearsal's target, if any).
        let database = rehearsal?.redacted ?? service.dataDirectory.location.displayed
        let replaced = (prepared.restoresDatabase ? [database] : []) + prepared.directories.map(\.path)
        if !yes {
            output.note(
                "This replaces \(replaced.joined(separator: ", ")) with backup \(target) taken "
                    + "\(LocalTime.format(prepared.manifest.createdAt)). The application should be stopped.")
            let answer = Terminal.readLine(prompt: "Type the backup id to confirm: ")
            guard answer?.trimmingCharacters(in: .whitespaces) == target else {
                prepared.discard()
                throw Refusal.declined("not restored: the id typed does not match")
            }
        }
        let outcome = try await CancelOnSignal.run {
            try await service.runRestore(prepared, safetyBackup: !noSafetyBackup, progress: report)
        }
        bar?.finish()
        // With off-site copies on, the safety backup is uploaded too (a failure is retried later).
        var safety: BackupInfo?
        if let id = outcome.safetyBackupID, let info = try? service.catalog.record(id: id).info {
            safety = await service.uploadIfPending(info)
        }
        if global.json {
            output.printJSON(outcome)
            return
        }
        output.line("\(output.paint("restored", .green)) backup \(target) into \(replaced.joined(separator: ", "))")
        if prepared.restoresDatabase {
            switch service.dataDirectory.location {
            case .sqlite: output.line("integrity_check: ok")
            case .postgres: output.line("pg_restore: ok")
            }
        }
        if keepOld, !prepared.oldTrees.isEmpty {
            output.line("old trees kept: " + prepared.oldTrees.map(\.path).joined(separator: ", "))
        }
        if let waited = outcome.writersWaitedMs {
            output.line("writers waited: \(waited) ms (the database's write lock, safety backup and replacement)")
        }
        if let safety {
            output.line("safety backup: \(safety.id)  \(service.bundleLocation(of: safety))")
        }
    }
}
