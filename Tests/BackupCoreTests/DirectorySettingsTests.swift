import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Settings directories, exclude, default_scope, retention.per_scope: validation, words and JSON, catalog v13")
struct DirectorySettingsTests {
    /// A data directory, and beside it (outside) a folder with `uploads/`, `media/` and a plain file.
    struct Layout {
        let data = TemporaryDirectory("dirs-data")
        let outside = TemporaryDirectory("dirs-app")
        var uploads: String { outside.url.appendingPathComponent("uploads").path }
        var media: String { outside.url.appendingPathComponent("media").path }
        var file: String { outside.url.appendingPathComponent("notes.txt").path }

        init() throws {
            for path in [uploads, media, uploads + "/sub"] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.createSymbolicLink(
                atPath: outside.url.appendingPathComponent("uploads-link").path, withDestinationPath: uploads)
            try FileManager.default.createDirectory(
                at: data.url.appendingPathComponent("inside"), withIntermediateDirectories: true)
        }
    }

    @Test("each bad directory is refused with its index and path; nothing is saved")
    func directoriesJudged() throws {
        let layout = try Layout()
        let service = try BackupService(dataDirectory: layout.data.dataDirectory)
        var settings = try service.settings()
        settings.directories = [
            layout.uploads,  // 0: fine
            "srv/app/uploads",  // 1: relative
            layout.outside.url.appendingPathComponent("gone").path,  // 2: missing
            layout.file,  // 3: a file
            layout.data.url.appendingPathComponent("inside").path,  // 4: inside the data directory
            layout.data.url.deletingLastPathComponent().path,  // 5: contains the data directory
            layout.uploads + "/",  // 6: the same as 0, written with a slash
            layout.uploads + "/sub",  // 7: inside 0
            layout.outside.url.appendingPathComponent("uploads-link").path,  // 8: 0 through a symlink
            layout.media + "/../media",  // 9: a .. part
        ]
        let error = #expect(throws: BackupError.self) { try service.saveSettings(settings) }
        guard case .invalidInput(let fields) = error else { return }
        #expect(fields["directories[0]"] == nil, "\(fields)")
        #expect(fields["directories[1]"] == "srv/app/uploads is not an absolute path (it must start with /)")
        #expect(fields["directories[2]"] == "\(layout.outside.path)/gone does not exist")
        #expect(fields["directories[3]"] == "\(layout.file) is not a directory")
        #expect(fields["directories[4]"]?.contains("is inside the data directory") == true, "\(fields)")
        #expect(fields["directories[5]"]?.contains("contains the data directory") == true, "\(fields)")
        #expect(fields["directories[6]"]?.contains("is the same directory as directories[0]") == true, "\(fields)")
        #expect(fields["directories[7]"]?.hasPrefix("\(layout.uploads)/sub is inside directories[0]") == true)
        #expect(fields["directories[8]"]?.contains("is the same directory as directories[0]") == true, "\(fields)")
        #expect(fields["directories[9]"]?.contains("must not contain . or .. parts") == true)
        #expect(fields.count == 9, "\(fields)")
        #expect(try service.settings().directories.isEmpty)

        // A good list is saved without trailing slashes and read back from the catalog.
        settings.directories = [layout.uploads + "/", layout.media]
        settings.exclude = ["*.tmp", "cache/**"]
        settings.defaultScope = .files
        settings.retention.perScope = true
        try service.saveSettings(settings)
        let reopened = try BackupService(dataDirectory: layout.data.dataDirectory).settings()
        #expect(reopened.directories == [layout.uploads, layout.media])
        #expect(reopened.exclude == ["*.tmp", "cache/**"])
        #expect(reopened.defaultScope == .files && reopened.retention.perScope)

        // A directory gone since it was configured does not block other changes; a new list is judged.
        try FileManager.default.removeItem(atPath: layout.media)
        var other = reopened
        other.intervalHours = 6
        try service.saveSettings(other)
        other.directories.append(layout.outside.url.appendingPathComponent("uploads-link").path)
        let again = #expect(throws: BackupError.self) { try service.saveSettings(other) }
        guard case .invalidInput(let problems) = again else { return }
        #expect(problems["directories[1]"] == "\(layout.media) does not exist")
        #expect(problems["directories[2]"]?.contains("is the same directory as directories[0]") == true)
    }

    @Test("exclude patterns: non-empty, no NUL, at most 100; default_scope with files needs directories")
    func excludeAndDefaultScope() {
        var settings = BackupSettings(exclude: ["*.tmp", "", "a\0b"])
        #expect(settings.problems["exclude[1]"] == "must not be empty")
        #expect(settings.problems["exclude[2]"] == "must not contain a NUL character")
        settings.exclude = (0...100).map { "p\($0)" }
        #expect(settings.problems["exclude"] == "at most 100 patterns")
        settings.exclude = []
        #expect(settings.problems.isEmpty)

        for scope in [BackupScope.files, .full] {
            settings.defaultScope = scope
            #expect(settings.problems["default_scope"]?.contains("no directories are configured") == true)
        }
        settings.defaultScope = .database
        #expect(settings.problems.isEmpty)
        settings.defaultScope = nil
        #expect(settings.scopeByDefault == .database)
        settings.directories = ["/srv/app/uploads"]
        #expect(settings.scopeByDefault == .full, "automatic: full once directories are configured")
        settings.defaultScope = .database
        #expect(settings.scopeByDefault == .database)
    }

    @Test("a files or full backup with no directories is refused (scope), before the lock or a record")
    func scopeNeedsDirectories() throws {
        let directory = TemporaryDirectory("scope-no-dirs")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        for scope in [BackupScope.files, .full] {
            let error = #expect(throws: BackupError.self) {
                _ = try service.prepareBackup(type: .manual, note: nil, scope: scope)
            }
            guard case .invalidInput(let fields) = error else { continue }
            #expect(fields["scope"]?.contains("no directories are configured") == true, "\(fields)")
        }
        #expect(try service.catalog.allRecords().isEmpty)
        let lease = try service.acquireJobLock()
        lease.release()
    }

    @Test("words and JSON make the same change; lists split on commas, empty clears, auto is automatic")
    func wordsAndJSON() throws {
        let words = try SettingsPatch(assignments: [
            "directories=/srv/a, /srv/b", "exclude=*.tmp,cache/**", "default_scope=files", "per_scope=yes",
        ])
        let json = try JSONDecoder().decode(
            SettingsPatch.self,
            from: Data(
                """
                {"directories": ["/srv/a", "/srv/b"], "exclude": ["*.tmp", "cache/**"], "default_scope": "files",
                 "retention": {"per_scope": true}}
                """.utf8))
        let fromWords = try words.applied(to: BackupSettings())
        #expect(fromWords == (try json.applied(to: BackupSettings())))
        #expect(fromWords.directories == ["/srv/a", "/srv/b"] && fromWords.exclude == ["*.tmp", "cache/**"])
        #expect(fromWords.defaultScope == .files && fromWords.retention.perScope)

        let cleared = try SettingsPatch(assignments: ["directories=", "exclude=", "default_scope=auto"])
            .applied(to: fromWords)
        #expect(cleared.directories.isEmpty && cleared.exclude.isEmpty && cleared.defaultScope == nil)
        let nulled = try JSONDecoder().decode(SettingsPatch.self, from: Data(#"{"default_scope": null}"#.utf8))
        #expect(try nulled.applied(to: fromWords).defaultScope == nil)

        let bad = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["default_scope=everything"]).applied(to: BackupSettings())
        }
        #expect(bad == .invalidInput(fields: ["default_scope": "must be database, files, full or null (automatic)"]))
        #expect(throws: BackupError.self) { _ = try SettingsPatch(assignments: ["per_scope=sometimes"]) }
    }

    @Test("a catalog made before v13: settings read as no directories, every backup as scope database")
    func migration() throws {
        let directory = TemporaryDirectory("scopes-migration")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v12_encryption_settings")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO backup (id, filename, type, status, created_at, recorded_at, pinned, done_bytes,
                      total_bytes, store)
                    VALUES ('0123456789abcdef', 'backup-20260101-000000-manual-0123456789abcdef.tar.gz', 'manual',
                      'completed', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000', 0, 0, 0, 'local')
                    """)
        }
        try queue.close()
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let settings = try service.settings()
        #expect(settings.directories.isEmpty && settings.exclude.isEmpty && settings.defaultScope == nil)
        #expect(!settings.retention.perScope)
        let record = try service.catalog.record(id: "0123456789abcdef")
        #expect(record.scope == .database && record.sourceWarnings.isEmpty)
        #expect(record.info.warnings.isEmpty)
    }
}
