import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("The core's rules, as the CLI applies them: notes, retention failures")
struct CoreRulesCLITests {
    let backup = try! ChildProcess(product: "backup")

    func json<T: Decodable>(_ type: T.Type, _ result: ChildProcess.Result) throws -> T {
        try JSONDecoder.backupManager().decode(type, from: Data(result.stdout.utf8))
    }

    @Test(
        "create --note refuses what the API refuses (control characters, bidi overrides, 501 characters), with the same field message",
        arguments: [
            "bell\u{7}", "escape \u{1b}[31mred", "carriage\rreturn", "right\u{202E}left",
            String(repeating: "n", count: 501),
        ])
    func notesRefusedLikeTheAPI(_ note: String) throws {
        let directory = TemporaryDirectory("cli-note-rule")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let refused = try backup.run(["create", "--note", note, "--json", "--data-dir", directory.path])
        #expect(refused.status == 2, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stdout.contains("\"validation_failed\""), "\(refused.stdout)")
        // The API answers with the core's own refusal: the same field and reason.
        #expect(throws: BackupError.self) { try BackupNote.validated(note) }
        var reason = ""
        do { _ = try BackupNote.validated(note) } catch {
            if case .invalidInput(let fields) = error { reason = fields["note"] ?? "" }
        }
        #expect(!reason.isEmpty && refused.stdout.contains(reason), "\(refused.stdout)")
        #expect(directory.backupFiles().isEmpty)
        let accepted = try backup.run([
            "create", "--note", "line one\nline\ttwo", "--json", "--data-dir", directory.path,
        ])
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    @Test(
        "a bundle retention cannot delete after a backup: the backup succeeds, stats show the failure until a later run succeeds"
    )
    func retentionFailureShown() throws {
        let directory = TemporaryDirectory("cli-retention-failure")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let data = ["--data-dir", directory.path]
        let set = try backup.run(["settings", "set", "keep_last=1", "include_manual=true", "--yes"] + data)
        #expect(set.status == 0, "\(set.stderr)")
        let first = try json(BackupInfo.self, try backup.run(["create", "--json"] + data))
        let clean = try json(BackupStats.self, try backup.run(["stats", "--json"] + data))
        #expect(clean.lastRetentionFailure == nil)

        // The first bundle becomes undeletable while it stays a good bundle: a bind mount of a
        // copy onto it (unlink fails with EBUSY, even as root).
        let bundle = directory.dataDirectory.backups.appendingPathComponent(first.filename)
        let aside = directory.url.appendingPathComponent(first.filename)
        try FileManager.default.copyItem(at: bundle, to: aside)
        let mount = try ChildProcess(executablePath: "/bin/mount").run(["--bind", aside.path, bundle.path])
        guard mount.status == 0 else {
            print("retention failure test: SKIPPED: a bind mount needs root (\(mount.stderr))")
            return
        }

        let second = try backup.run(["create", "--json"] + data)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("retention"), "\(second.stderr)")  // logged
        let failed = try json(BackupStats.self, try backup.run(["stats", "--json"] + data))
        let failure = try #require(failed.lastRetentionFailure)
        #expect(failure.error.contains(first.filename), "\(failure.error)")
        #expect(failure.error.contains("cannot delete"), "\(failure.error)")
        let text = try backup.run(["stats"] + data)
        #expect(text.stdout.contains("retention     failed"), "\(text.stdout)")
        #expect(text.stdout.contains(first.filename))
        // The record stays while its file does: the catalog never loses a bundle that is there.
        let listed = try json([BackupInfo].self, try backup.run(["list", "--json"] + data))
        #expect(listed.map(\.id).contains(first.id))
        let pruned = try backup.run(["prune", "--json"] + data)
        #expect(pruned.status == 1, "\(pruned.stdout)")
        #expect(pruned.stdout.contains("\"io_error\""), "\(pruned.stdout)")

        #expect(try ChildProcess(executablePath: "/bin/umount").run([bundle.path]).status == 0)
        let third = try backup.run(["create", "--json"] + data)
        #expect(third.status == 0, "\(third.stderr)")
        let after = try json(BackupStats.self, try backup.run(["stats", "--json"] + data))
        #expect(after.lastRetentionFailure == nil)
        #expect(after.count == 1)
        #expect(try backup.run(["stats"] + data).stdout.contains("retention") == false)
    }
}
