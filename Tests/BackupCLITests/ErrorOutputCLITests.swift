import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("one error path: one JSON object with --json, one error: line without, as a real process")
struct ErrorOutputCLITests {
    let backup = try! ChildProcess(product: "backup")

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    /// Runs `arguments` in text mode and with --json; expects one `error:` line on standard error
    /// (nothing on standard output), then one JSON error object on standard output (nothing on
    /// standard error), both with `status`. Returns the text line and the JSON error.
    func expectError(
        _ arguments: [String], status: Int32, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (line: String, json: ErrorBody.Detail) {
        let text = try backup.run(arguments)
        #expect(text.status == status, "\(arguments): \(text.stderr)", sourceLocation: sourceLocation)
        #expect(text.stdout.isEmpty, "\(arguments): \(text.stdout)", sourceLocation: sourceLocation)
        let lines = text.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(arguments): \(text.stderr)", sourceLocation: sourceLocation)
        #expect(text.stderr.hasPrefix("error: "), "\(arguments): \(text.stderr)", sourceLocation: sourceLocation)

        let json = try backup.run(arguments + ["--json"])
        #expect(json.status == status, "\(arguments) --json", sourceLocation: sourceLocation)
        #expect(json.stderr.isEmpty, "\(arguments) --json: \(json.stderr)", sourceLocation: sourceLocation)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object.map { Array($0.keys) } == ["error"], "\(json.stdout)", sourceLocation: sourceLocation)
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(json.stdout.utf8))
        #expect(!body.error.code.isEmpty && !body.error.message.isEmpty, sourceLocation: sourceLocation)
        return (String(lines[0]), body.error)
    }

    @Test("importing a missing file says no such file, in our words")
    func importMissingFile() throws {
        let directory = TemporaryDirectory("cli-error-import-missing")
        let (line, json) = try expectError(
            ["import", "/nonexistent/bundle.tar.gz", "--data-dir", directory.path], status: 1)
        #expect(line == "error: no such file: /nonexistent/bundle.tar.gz")
        #expect(json.code == "file_not_found")
        #expect(json.message == "no such file: /nonexistent/bundle.tar.gz")
        #expect(directory.backupFiles().isEmpty)
    }

    @Test("importing or restoring a file that is no bundle says so, not that a gzip stream is corrupt")
    func importNotABundle() throws {
        let directory = TemporaryDirectory("cli-error-not-bundle")
        let notes = directory.url.appendingPathComponent("notes.txt")
        try Data("shopping: milk, eggs\n".utf8).write(to: notes)
        let (line, json) = try expectError(["import", notes.path, "--data-dir", directory.path], status: 3)
        #expect(line.hasPrefix("error: \(notes.path) is not a backup bundle ("), "\(line)")
        #expect(!line.contains("gzip stream"))
        #expect(json.code == "verification_failed")
        #expect(directory.backupFiles().isEmpty)
        let empty = directory.url.appendingPathComponent("empty.tar.gz")
        try Data().write(to: empty)
        let (emptyLine, _) = try expectError(["import", empty.path, "--data-dir", directory.path], status: 3)
        #expect(emptyLine == "error: \(empty.path) is not a backup bundle (it is empty)")

        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let (restoreLine, _) = try expectError(
            ["restore", "--file", notes.path, "--yes", "--data-dir", directory.path], status: 3)
        #expect(restoreLine.hasPrefix("error: \(notes.path) is not a backup bundle ("), "\(restoreLine)")
    }

    @Test("argument errors are one lower-case error: line pointing at the command's help, exit 2")
    func argumentErrors() throws {
        let directory = TemporaryDirectory("cli-error-arguments")
        let (limit, limitJSON) = try expectError(["list", "--limit", "0", "--data-dir", directory.path], status: 2)
        #expect(limit == "error: --limit must be between 1 and 500 (see 'backup list --help')")
        #expect(limitJSON.code == "usage")
        let (missing, _) = try expectError(["show", "--data-dir", directory.path], status: 2)
        #expect(missing == "error: missing expected argument '<id>' (see 'backup show --help')", "\(missing)")
        let (unknown, _) = try expectError(["frobnicate"], status: 2)
        #expect(unknown.hasPrefix("error: unexpected argument 'frobnicate'"), "\(unknown)")
        let (option, _) = try expectError(["list", "--colour", "--data-dir", directory.path], status: 2)
        #expect(option.hasPrefix("error: unknown option '--colour'"), "\(option)")
        let (both, _) = try expectError(["verify", "--all", "0123", "--data-dir", directory.path], status: 2)
        #expect(both == "error: give a backup id or --all, not both or neither (see 'backup verify --help')")
    }

    @Test("core errors and refusals print once: no backup, busy, no confirmation")
    func coreErrorsAndRefusals() throws {
        let directory = TemporaryDirectory("cli-error-core")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))

        let (notFound, notFoundJSON) = try expectError(
            ["show", "0123456789abcdef", "--data-dir", directory.path], status: 1)
        #expect(notFound == "error: no backup with id 0123456789abcdef")
        #expect(notFoundJSON.code == "not_found")
        let (refused, refusedJSON) = try expectError(["delete", info.id, "--data-dir", directory.path], status: 2)
        #expect(refused == "error: refusing to delete without confirmation; pass --yes")
        #expect(refusedJSON.code == "confirmation_required")
        let (restore, _) = try expectError(["restore", info.id, "--data-dir", directory.path], status: 2)
        #expect(restore.hasPrefix("error: refusing to restore without confirmation"))

        try directory.dataDirectory.prepare()
        let lock = try #require(try AdvisoryLock.tryAcquire(at: directory.dataDirectory.jobLock.path))
        let (busy, busyJSON) = try expectError(["create", "--data-dir", directory.path], status: 4)
        #expect(busy.hasPrefix("error: another backup"))
        #expect(busyJSON.code == "backup_in_progress")
        lock.release()
    }
}
