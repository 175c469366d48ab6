import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Settings changes that prune, notes, byte counts, per-phase progress")
struct SettingsAndNotesTests {
    /// A service on a small sample database with `count` completed manual backups, oldest first.
    static func service(
        _ label: String, backups count: Int
    ) async throws -> (TemporaryDirectory, BackupService, [BackupInfo]) {
        let directory = TemporaryDirectory(label)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var made: [BackupInfo] = []
        for _ in 0..<count { made.append(try await service.createBackup()) }
        return (directory, service, made)
    }

    @Test("previewSettings names what retention would delete and changes nothing; saveSettings reports the deletions")
    func previewThenSave() async throws {
        let (directory, service, made) = try await Self.service("settings-preview", backups: 3)
        let before = try service.catalog.settings()
        var settings = before
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)

        let preview = try service.previewSettings(settings)
        #expect(preview.settings == settings)
        #expect(preview.deleted.map(\.id) == [made[1].id, made[0].id])
        #expect(try service.catalog.settings() == before, "a preview saves nothing")
        #expect(directory.backupFiles().count == 6, "a preview deletes nothing")

        let saved = try service.saveSettings(settings)
        #expect(saved.settings == settings)
        #expect(saved.deleted.map(\.id) == preview.deleted.map(\.id))
        #expect(try service.catalog.allRecords().map(\.id) == [made[2].id])

        // Nothing left to delete: the same settings again report no deletions.
        #expect(try service.saveSettings(settings).deleted.isEmpty)
        #expect(try service.previewSettings(settings).deleted.isEmpty)
    }

    @Test("a preview of invalid settings is refused like a save")
    func previewValidates() async throws {
        let (_, service, _) = try await Self.service("settings-preview-invalid", backups: 0)
        var settings = BackupSettings()
        settings.intervalHours = 0
        #expect(throws: BackupError.invalidInput(fields: ["interval_hours": "must be between 1 and 8760 hours"])) {
            try service.previewSettings(settings)
        }
    }

    @Test("notes: one limit of 500 characters, checked by the core when a backup is made and when it is annotated")
    func noteLimit() async throws {
        #expect(BackupNote.maximumLength == 500)
        let (directory, service, made) = try await Self.service("notes-limit", backups: 1)
        let long = String(repeating: "n", count: 501)
        let tooLong = BackupError.invalidInput(fields: ["note": "must be at most 500 characters"])
        #expect(throws: tooLong) { try service.prepareBackup(type: .manual, note: long) }
        #expect(throws: tooLong) { try service.catalog.annotate(id: made[0].id, note: .some(long), pinned: nil) }
        #expect(directory.backupFiles().count == 2)
        let fine = String(repeating: "ю", count: 500)
        #expect(try service.catalog.annotate(id: made[0].id, note: .some(fine), pinned: nil).note == fine)
    }

    @Test("a safety backup's note is a kind and the restored id, not an English sentence; the CLI words it")
    func preRestoreNote() async throws {
        let (directory, service, made) = try await Self.service("notes-pre-restore", backups: 1)
        defer { withExtendedLifetime(directory) {} }
        let outcome = try await service.runRestore(try service.prepareRestore(.backup(id: made[0].id)))
        let safety = try service.catalog.record(id: try #require(outcome.safetyBackupID)).info
        #expect(safety.type == .preRestore)
        #expect(safety.note == nil)
        #expect(safety.noteKind == .preRestore)
        #expect(safety.noteArgs == ["backup_id": made[0].id])
        #expect(safety.noteText == "before restoring \(made[0].id)")

        let json = String(decoding: try JSONEncoder.backupManager().encode(safety), as: UTF8.self)
        #expect(json.contains(#""note":null"#))
        #expect(json.contains(#""note_kind":"pre_restore""#))
        #expect(json.contains(#""note_args":{"backup_id":"\#(made[0].id)"}"#))
    }

    @Test("catalogs from before note kinds: English safety-backup notes become kinds when the catalog opens")
    func migratesOldNotes() throws {
        let directory = TemporaryDirectory("notes-migration")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v2: verification outcome")
        try queue.write { db in
            for (id, type, note) in [
                ("aaaaaaaaaaaaaaaa", "pre-restore", "before restoring 0123456789abcdef"),
                ("bbbbbbbbbbbbbbbb", "pre-restore", "before restoring a file"),
                ("cccccccccccccccc", "manual", "before restoring the old server"),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO backup (id, filename, type, status, created_at, note)
                        VALUES (?, ?, ?, 'completed', '2026-11-01 10:00:00.000', ?)
                        """, arguments: [id, "backup-\(id).tar.gz", type, note])
            }
        }
        try queue.close()
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        let restored = try catalog.record(id: "aaaaaaaaaaaaaaaa")
        #expect(restored.note == nil && restored.noteKind == .preRestore)
        #expect(restored.noteArgs == ["backup_id": "0123456789abcdef"])
        let fromFile = try catalog.record(id: "bbbbbbbbbbbbbbbb")
        #expect(fromFile.noteKind == .preRestore && fromFile.noteArgs == [:])
        #expect(fromFile.info.noteText == "before restoring a file")
        let manual = try catalog.record(id: "cccccccccccccccc")
        #expect(manual.note == "before restoring the old server" && manual.noteKind == nil)
    }

    /// The cases both faces are checked against (the page's in `Tests/e2e`).
    struct ByteCases: Decodable {
        var cases: [[ByteCase]]

        enum ByteCase: Decodable {
            case bytes(Int64), text(String)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int64.self) {
                    self = .bytes(number)
                } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
    }

    @Test("byte counts: binary units by one set of rules, the same cases the page's formatter is checked against")
    func byteCounts() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("e2e/byte_counts.json")
        let cases = try JSONDecoder().decode(ByteCases.self, from: Data(contentsOf: url)).cases
        #expect(cases.count > 10)
        for pair in cases {
            guard case .bytes(let bytes) = pair[0], case .text(let text) = pair[1] else {
                Issue.record("malformed case \(pair)")
                continue
            }
            #expect(ByteCount.format(bytes) == text, "\(bytes)")
        }
    }

    @Test("a backup reports each phase against the database's size, not a job total counting it twice")
    func perPhaseProgress() async throws {
        let directory = TemporaryDirectory("progress-phases")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let steps = Mutex<[JobProgress]>([])
        try await service.createBackup { step in steps.withLock { $0.append(step) } }
        let seen = steps.withLock { $0 }
        let pageBytes = try TestDB.strings(
            directory.dataDirectory.database.path,
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        let databaseBytes = try #require(pageBytes.first.flatMap { Int64($0) })
        for phase in [JobProgress.Phase.snapshot, .compress] {
            let ofPhase = seen.filter { $0.phase == phase }
            #expect(!ofPhase.isEmpty, "\(phase)")
            #expect(ofPhase.allSatisfy { $0.phaseTotalBytes == databaseBytes }, "\(phase)")
            #expect(ofPhase.last?.phaseDoneBytes == databaseBytes, "\(phase)")
            #expect(ofPhase.last?.phaseFraction == 1, "\(phase)")
        }
    }

    @Test("job events carry the phase's own progress against the database's size, for the page")
    func phaseProgressInEvents() async throws {
        let directory = TemporaryDirectory("progress-events")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let runner = JobRunner(service: service)
        let events = await runner.events()
        _ = try await runner.startBackup(note: nil)
        var seen: [JobStatus] = []
        for await event in events {
            guard case .job(let status) = event else { continue }
            seen.append(status)
            if status.state != .running { break }
        }
        let pageBytes = try TestDB.strings(
            directory.dataDirectory.database.path,
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        let databaseBytes = try #require(pageBytes.first.flatMap { Int64($0) })
        let compressing = seen.filter { $0.phase == .compress }
        #expect(!compressing.isEmpty)
        #expect(compressing.allSatisfy { $0.phaseProgress?.totalBytes == databaseBytes })
        #expect(compressing.allSatisfy { $0.progress?.totalBytes == 2 * databaseBytes })
        let last = try #require(seen.last)
        #expect(last.state == .completed)
        #expect(last.phaseProgress?.percent == 100)
        let json = String(decoding: try JSONEncoder.backupManager().encode(last), as: UTF8.self)
        #expect(json.contains(#""phase_progress":{"done_bytes":\#(databaseBytes)"#))
        await runner.shutdown()
    }
}
