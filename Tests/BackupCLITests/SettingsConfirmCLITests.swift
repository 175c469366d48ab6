import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("backup settings set asks before retention deletes; generated notes; per-phase progress, as a real process")
struct SettingsConfirmCLITests {
    let backup = try! ChildProcess(product: "backup")

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    /// A data directory with three manual backups, oldest first.
    func threeBackups(_ label: String) throws -> (TemporaryDirectory, [BackupInfo]) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        var made: [BackupInfo] = []
        for index in 0..<3 {
            let created = try backup.run(["create", "--json", "--note", "n\(index)", "--data-dir", directory.path])
            made.append(try json(BackupInfo.self, created))
        }
        return (directory, made)
    }

    @Test("a change that would delete lists the backups and refuses without --yes; --yes saves and deletes them")
    func refusesWithoutYes() throws {
        let (directory, made) = try threeBackups("cli-settings-confirm")
        let change = ["settings", "set", "keep_last=1", "include_manual=true", "--data-dir", directory.path]

        let refused = try backup.run(change)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stdout.contains("retention would delete 2 backups:"))
        #expect(refused.stdout.contains(made[0].id) && refused.stdout.contains(made[1].id))
        #expect(!refused.stdout.contains(made[2].id))
        #expect(refused.stdout.contains(localTime(made[0].createdAt)))
        #expect(refused.stdout.contains("n0"))
        #expect(refused.stderr.contains("not saved") && refused.stderr.contains("--yes"))
        #expect(!refused.stdout.contains("saved\n"))
        #expect(directory.backupFiles().count == 6)
        let settings = try json(
            BackupSettings.self, try backup.run(["settings", "show", "--json", "--data-dir", directory.path]))
        #expect(settings == BackupSettings())

        let inJSON = try backup.run(change + ["--json"])
        #expect(inJSON.status == 1)
        #expect(inJSON.stdout.contains("\"retention_would_delete\""))
        #expect(directory.backupFiles().count == 6)

        let dry = try backup.run(change + ["--dry-run", "--json"])
        #expect(dry.status == 0)
        let preview = try json(SettingsChange.Preview.self, dry)
        #expect(preview.wouldDelete.map(\.id) == [made[1].id, made[0].id])
        #expect(preview.settings.retention.keepLast == 1)
        #expect(directory.backupFiles().count == 6)

        let confirmed = try backup.run(change + ["--yes"])
        #expect(confirmed.status == 0, "\(confirmed.stderr)")
        #expect(confirmed.stdout.contains("saved"))
        #expect(confirmed.stdout.contains("retention deleted 2 backups:"))
        #expect(directory.backupFiles().count == 2)

        // Nothing to delete: saved at once, no question.
        let plain = try backup.run(["settings", "set", "interval_hours=12", "--data-dir", directory.path])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "saved\n")
    }

    /// Runs `backup arguments` on a terminal (through `script`) with `input` typed at it.
    func onTerminal(_ arguments: [String], typing input: String) throws -> (status: Int32, output: String) {
        let command = ([backup.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["--quiet", "--return", "--command", command, "/dev/null"]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test("on a terminal, settings set asks: no keeps everything, yes saves and deletes")
    func asksOnATerminal() throws {
        let (directory, made) = try threeBackups("cli-settings-ask")
        let change = ["settings", "set", "keep_last=1", "include_manual=true", "--data-dir", directory.path]

        let declined = try onTerminal(change, typing: "n\n")
        #expect(declined.status == 1, "\(declined.output)")
        #expect(declined.output.contains("Save the settings and delete 2 backups? [y/N]"))
        #expect(declined.output.contains("not saved"))
        #expect(directory.backupFiles().count == 6)

        let accepted = try onTerminal(change, typing: "y\n")
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(accepted.output.contains("retention deleted 2 backups:"))
        #expect(accepted.output.contains(made[0].id) && accepted.output.contains(made[1].id))
        #expect(directory.backupFiles().count == 2)
    }

    /// The local time the CLI prints for `date`.
    func localTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    @Test("a safety backup's note is worded in English by the CLI; its JSON keeps note null with the kind")
    func generatedNote() throws {
        let directory = TemporaryDirectory("cli-note-kind")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let info = try json(BackupInfo.self, try backup.run(["create", "--json", "--data-dir", directory.path]))
        let restored = try backup.run(["restore", info.id, "--yes", "--data-dir", directory.path])
        #expect(restored.status == 0, "\(restored.stderr)")
        let list = try json(
            [BackupInfo].self,
            try backup.run(["list", "--json", "--type", "pre-restore", "--data-dir", directory.path]))
        let safety = try #require(list.first)
        #expect(safety.note == nil && safety.noteKind == .preRestore && safety.noteArgs == ["backup_id": info.id])
        let text = try backup.run(["list", "--data-dir", directory.path])
        #expect(text.stdout.contains("before restoring \(info.id)"))
        let shown = try backup.run(["show", safety.id, "--data-dir", directory.path])
        #expect(shown.stdout.contains("before restoring \(info.id)"))
    }

    @Test("on a terminal, create shows each phase against the database's size")
    func progressPerPhase() throws {
        let directory = TemporaryDirectory("cli-progress")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 4)
        let pageBytes = try TestDB.strings(
            directory.dataDirectory.database.path,
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        let databaseBytes = try #require(pageBytes.first.flatMap { Int64($0) })
        // `script` gives the command a terminal and copies what it drew.
        let script = ChildProcess(executablePath: "/usr/bin/script")
        let command = "'\(backup.executable.path)' create --data-dir '\(directory.path)'"
        let run = try script.run(["--quiet", "--return", "--command", command, "/dev/null"])
        #expect(run.status == 0, "\(run.stdout)")
        let total = ByteCount.format(databaseBytes)
        #expect(run.stdout.contains("snapshot [") && run.stdout.contains("compress ["))
        #expect(run.stdout.contains("100%  \(total) / \(total)"))
        #expect(!run.stdout.contains("/ \(ByteCount.format(2 * databaseBytes))"))
    }
}
