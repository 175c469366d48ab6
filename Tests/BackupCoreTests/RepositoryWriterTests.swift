import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("Incremental backups: the repository writer deduplicates chunks into packs and writes the index last")
struct RepositoryWriterTests {
    /// A data directory whose settings say `format` `incremental`, with a ledger database of about
    /// `rows` rows of ~100 bytes (random text, so it compresses as real data does, not to nothing).
    struct Fixture {
        let data = TemporaryDirectory("repository-writer")
        var service: BackupService
        var database: URL { data.dataDirectory.database }
        var repository: URL { data.dataDirectory.repository }

        init(rows: Int = 200_000, settings: BackupSettings = BackupSettings(format: .incremental)) throws {
            let queue = try DatabaseQueue(path: data.dataDirectory.database.path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(
                    sql:
                        "CREATE TABLE ledger(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, amount INTEGER NOT NULL, memo TEXT NOT NULL)"
                )
            }
            try queue.write { db in try Self.append(rows, to: db) }
            try queue.close()
            service = try BackupService(dataDirectory: data.dataDirectory)
            try service.saveSettings(settings)
        }

        /// Appends `count` rows; amounts stay 4-byte integers, so an update never resizes a row.
        static func append(_ count: Int, to db: Database) throws {
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO ledger(account, amount, memo)
                    SELECT abs(random()) % 1000, 1000000 + abs(random()) % 1000, hex(randomblob(40)) FROM n
                    """, arguments: [count])
        }

        /// The issue's 1% change with locality: 0.5% of the rows appended, 0.5% updated in one
        /// contiguous id range at a random offset (a non-indexed column).
        func changeOnePercent(of rows: Int) throws {
            let queue = try DatabaseQueue(path: database.path)
            let half = rows / 200
            let start = Int.random(in: 1...(rows - half))
            try queue.write { db in
                try Self.append(half, to: db)
                try db.execute(
                    sql: "UPDATE ledger SET amount = amount + 1 WHERE id BETWEEN ? AND ?",
                    arguments: [start, start + half - 1])
            }
            try queue.close()
        }

        func index(of info: BackupInfo) throws -> RepositoryIndex {
            try RepositoryIndex(
                contentsOf: repository.appendingPathComponent(RepositoryLayout.indexFolder)
                    .appendingPathComponent(info.filename))
        }

        func indexSize(of info: BackupInfo) -> Int64 {
            FileOps.size(of: repository.appendingPathComponent(RepositoryLayout.index(info.id, encrypted: false))) ?? -1
        }

        /// Every pack file under `packs/`, by name.
        func packFiles() -> Set<String> {
            let packs = repository.appendingPathComponent(RepositoryLayout.packsFolder)
            let files = FileManager.default.enumerator(atPath: packs.path)?.allObjects as? [String] ?? []
            return Set(
                files.filter { $0.hasSuffix(".pack") }.map { String($0.split(separator: "/").last!.dropLast(5)) })
        }

        /// Each regular file of the index put back together from its chunks (located by the
        /// catalog, read from the packs, each checked against its hash), as its SHA-256.
        func reassembled(_ index: RepositoryIndex) throws -> [String: String] {
            let locator = CatalogChunkLocator(catalog: service.catalog)
            var hashes: [String: String] = [:]
            for file in index.files {
                var hash = SHA256()
                for chunk in file.chunks {
                    let location = try #require(try locator.locate(chunk), "chunk \(chunk) of \(file.path) not located")
                    let pack = repository.appendingPathComponent(RepositoryLayout.pack(location.pack, encrypted: false))
                    hash.update(data: try PackReader(url: pack).chunk(location.entry))
                }
                hashes[file.path] = hash.finalize().hexString
            }
            return hashes
        }
    }

    @Test("a 1% local change (0.5% appended, 0.5% contiguous updates) adds at most 5% of the first backup's bytes")
    func onePercentChange() async throws {
        let rows = 200_000
        let fixture = try Fixture(rows: rows)
        let first = try await fixture.service.createBackup()
        try fixture.changeOnePercent(of: rows)
        let second = try await fixture.service.createBackup()

        let firstRecord = try fixture.service.catalog.record(id: first.id)
        let secondRecord = try fixture.service.catalog.record(id: second.id)
        #expect(firstRecord.format == .incremental && secondRecord.format == .incremental)
        #expect(firstRecord.store == "repository" && firstRecord.filename == "\(first.id).json.zst")
        let firstBytes = try #require(firstRecord.sizeBytes)
        let secondBytes = try #require(secondRecord.sizeBytes)
        let logical = try #require(secondRecord.logicalBytes)
        let ratio = Double(secondBytes) / Double(firstBytes)
        print(
            "repository-writer figures: database \(logical) bytes, first backup added \(firstBytes), "
                + "second added \(secondBytes) (\(String(format: "%.2f", ratio * 100))% of the first), "
                + "second index \(fixture.indexSize(of: second)) bytes, dedup_ratio \(second.dedupRatio ?? 0); "
                + "first took \(firstRecord.durationMs ?? -1) ms, second \(secondRecord.durationMs ?? -1) ms")
        #expect(ratio <= 0.05, "the second backup added \(secondBytes) of the first's \(firstBytes) bytes")
        // And it did add the changed pages: more than its index alone.
        #expect(secondBytes > fixture.indexSize(of: second))
        #expect(second.dedupRatio == BackupInfo.ratio(logical: logical, stored: secondBytes))
        #expect(second.format == .incremental && second.logicalBytes == logical)

        // Both read back whole from the packs: each file's chunks give its manifest SHA-256.
        for info in [first, second] {
            let index = try fixture.index(of: info)
            #expect(index.manifest.id == info.id)
            let expected = Dictionary(
                uniqueKeysWithValues: index.manifest.entries.filter { $0.type == .file }.map { ($0.path, $0.sha256!) })
            #expect(try fixture.reassembled(index) == expected)
        }
        // The catalog's packs are the files on disk, and nothing is left in .tmp.
        #expect(Set(try fixture.service.catalog.repositoryPacks().map(\.name)) == fixture.packFiles())
        #expect(fixture.data.temporaryFiles().isEmpty)
    }

    @Test("an unchanged database adds only its index; the index is zstd-compressed JSON the zstd tool reads")
    func unchangedAddsOnlyIndex() async throws {
        let fixture = try Fixture(rows: 30_000)
        let first = try await fixture.service.createBackup()
        let packs = try fixture.service.catalog.repositoryPacks()
        let second = try await fixture.service.createBackup()
        #expect(try fixture.service.catalog.repositoryPacks() == packs)
        #expect(second.sizeBytes == fixture.indexSize(of: second))
        #expect(try fixture.index(of: first).files == (try fixture.index(of: second)).files)

        let path = fixture.repository.appendingPathComponent(RepositoryLayout.index(second.id, encrypted: false)).path
        let result = try ChildProcess(executablePath: "/usr/bin/zstd").run(["-d", "-c", "-q", path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["format"] as? String == "incremental")
        #expect((json["manifest"] as? [String: Any])?["id"] as? String == second.id)
        let record = try fixture.service.catalog.record(id: second.id)
        let indexBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(record.sha256 == SHA256.hash(data: indexBytes).hexString)
        #expect(FileOps.isRegularFile(fixture.repository.appendingPathComponent("config.json")))
    }

    @Test("a full scope backs up incrementally; its index lists what a bundle of the same data lists")
    func directoriesMatchBundle() async throws {
        let app = TemporaryDirectory("repository-writer-app")
        let uploads = app.url.appendingPathComponent("uploads")
        try SampleTree.create(at: uploads)
        var random = SystemRandomNumberGenerator()
        let large = Data((0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        try DirectoryTree.file("large.bin", in: uploads, bytes: large, mtime: 1_650_000_000)
        let fixture = try Fixture(
            rows: 5_000, settings: BackupSettings(directories: [uploads.path], format: .incremental))
        let incremental = try await fixture.service.createBackup(scope: .full)
        var settings = try fixture.service.catalog.settings()
        settings.format = .bundle
        try fixture.service.saveSettings(settings)
        let bundle = try await fixture.service.createBackup(scope: .full)
        #expect(bundle.format == .bundle && incremental.format == .incremental && incremental.scope == .full)

        let index = try fixture.index(of: incremental)
        let scratch = TemporaryDirectory("repository-writer-scratch")
        let verdict = try DirectoryTree.verify(
            fixture.data.url.appendingPathComponent("backups/\(bundle.filename)"), in: scratch)
        let listed = try #require(verdict.manifest).entries
        // The database's entry takes each backup's own time; everything else is the same.
        func comparable(_ entries: [Manifest.Entry]) -> [Manifest.Entry] {
            entries.map { entry in
                var entry = entry
                if entry.path == SQLiteSource.entryName { entry.mtime = 0 }
                return entry
            }
        }
        #expect(comparable(index.manifest.entries) == comparable(listed))
        #expect(index.files.map(\.path) == listed.filter { $0.type == .file }.map(\.path))
        let largeFile = try #require(index.files.first { $0.path.hasSuffix("large.bin") })
        #expect(largeFile.chunking == FileChunker.fileChunking && largeFile.chunks.count >= 2)
        #expect(index.files.first { $0.path.hasSuffix("deep.txt") }?.chunks.count == 1)
        #expect(index.files.first { $0.path.hasSuffix("empty-file") }?.chunks == [])
        let expected = Dictionary(
            uniqueKeysWithValues: index.manifest.entries.filter { $0.type == .file }.map { ($0.path, $0.sha256!) })
        #expect(try fixture.reassembled(index) == expected)
        // The bundle store lists the bundle alone: the repository folder is no bundle and no stray.
        #expect(try fixture.service.localStore.list().map(\.key) == [bundle.filename])
        #expect(try fixture.service.localStore.strayFiles(keepingSidecarsOf: []).isEmpty)
    }

    @Test("a failure after a pack is sealed leaves rows only for placed packs, no index, no partial file")
    func failureAfterSealedPack() async throws {
        var fixture = try Fixture(rows: 200_000)
        fixture.service.repositoryAfterPack = { (number) throws(BackupError) in
            if number == 1 { throw .io(path: "pack 1", reason: "injected crash after the first pack") }
        }
        let prepared = try fixture.service.prepareBackup(type: .manual, note: nil)
        await #expect(throws: BackupError.self) { try await fixture.service.run(prepared) }
        let record = try fixture.service.catalog.record(id: prepared.record.id)
        #expect(record.status == .failed)
        let packs = try fixture.service.catalog.repositoryPacks().map(\.name)
        #expect(packs.count == 1)
        #expect(Set(packs) == fixture.packFiles())
        #expect(
            !FileOps.exists(
                fixture.repository.appendingPathComponent(RepositoryLayout.index(record.id, encrypted: false))))
        #expect(fixture.data.temporaryFiles().isEmpty)

        // The next backup reuses the sealed pack's chunks and completes.
        fixture.service.repositoryAfterPack = { _ in }
        let next = try await fixture.service.createBackup()
        #expect(try fixture.service.catalog.repositoryPacks().map(\.name).contains(packs[0]))
        let index = try fixture.index(of: next)
        let expected = Dictionary(
            uniqueKeysWithValues: index.manifest.entries.filter { $0.type == .file }.map { ($0.path, $0.sha256!) })
        #expect(try fixture.reassembled(index) == expected)
    }

    @Test(
        "delete removes the index, not the packs; reconciliation: vanished index → missing, back → completed, interrupted → recovered, unrecorded → adopted"
    )
    func deleteAndReconcile() async throws {
        let fixture = try Fixture(rows: 20_000)
        let first = try await fixture.service.createBackup()
        let second = try await fixture.service.createBackup()
        let packs = fixture.packFiles()
        try fixture.service.delete(id: first.id)
        let firstIndex = fixture.repository.appendingPathComponent(RepositoryLayout.index(first.id, encrypted: false))
        #expect(!FileOps.exists(firstIndex))
        #expect(fixture.packFiles() == packs && !packs.isEmpty)
        #expect(throws: BackupError.self) { try fixture.service.catalog.record(id: first.id) }

        let secondIndex = fixture.repository.appendingPathComponent(RepositoryLayout.index(second.id, encrypted: false))
        let kept = try Data(contentsOf: secondIndex)
        try FileManager.default.removeItem(at: secondIndex)
        let (lease, report) = try fixture.service.beginJobReporting()
        lease.release()
        #expect(report.missing == [second.id])
        #expect(report.quarantined.isEmpty)
        #expect(try fixture.service.catalog.record(id: second.id).status == .missing)
        #expect(FileOps.exists(fixture.repository.appendingPathComponent("config.json")))

        // The index back while a pack's rows are gone: still missing; with the rows back, complete.
        try kept.write(to: secondIndex)
        let pack = try #require(try fixture.service.catalog.repositoryPacks().first)
        let packURL = fixture.repository.appendingPathComponent(RepositoryLayout.pack(pack.name, encrypted: false))
        try fixture.service.catalog.deletePack(named: pack.name)
        let (stillMissing, _) = try fixture.service.beginJobReporting()
        stillMissing.release()
        #expect(try fixture.service.catalog.record(id: second.id).status == .missing)
        try fixture.service.catalog.insertPack(pack, entries: try PackReader(url: packURL).entries())
        let (again, _) = try fixture.service.beginJobReporting()
        again.release()
        #expect(try fixture.service.catalog.record(id: second.id).status == .completed)

        // A process killed between the index's rename and the record's update: the record says
        // running, then interrupted; its index is in place, so the backup is recovered completed.
        var interrupted = try fixture.service.catalog.record(id: second.id)
        interrupted.status = .running
        interrupted.sizeBytes = nil
        interrupted.logicalBytes = nil
        try fixture.service.catalog.update(interrupted)
        let (third, recovering) = try fixture.service.beginJobReporting()
        third.release()
        #expect(recovering.recovered == [second.id] && recovering.interrupted == 1)
        let recovered = try fixture.service.catalog.record(id: second.id)
        #expect(recovered.status == .completed && recovered.format == .incremental)
        #expect(recovered.sizeBytes == FileOps.size(of: secondIndex) && recovered.logicalBytes == second.logicalBytes)

        // Killed between the record's deletion and the index's: the index is adopted (imported).
        try fixture.service.catalog.deleteRecord(id: second.id)
        let (fourth, adopting) = try fixture.service.beginJobReporting()
        fourth.release()
        #expect(adopting.adopted == [second.id])
        let adopted = try fixture.service.catalog.record(id: second.id)
        #expect(adopted.type == .imported && adopted.status == .completed && adopted.store == "repository")
        #expect(adopted.filename == second.filename && adopted.sha256 == second.sha256)
    }

    @Test(
        "settings: format is bundle by default, set as format=incremental or in JSON, refused otherwise and with encryption on"
    )
    func formatSetting() throws {
        let directory = TemporaryDirectory("format-setting")
        let catalog = try Catalog(dataDirectory: directory.dataDirectory)
        #expect(try catalog.settings().format == .bundle)
        let patched = try SettingsPatch(assignments: ["format=incremental"]).applied(to: try catalog.settings())
        try catalog.saveSettings(patched, now: Date())
        #expect(try catalog.settings().format == .incremental)
        let json = try JSONDecoder().decode(SettingsPatch.self, from: Data(#"{"format":"bundle"}"#.utf8))
        #expect(try json.applied(to: try catalog.settings()).format == .bundle)
        #expect(throws: BackupError.invalidInput(fields: ["format": "must be bundle or incremental"])) {
            try SettingsPatch(assignments: ["format=delta"]).applied(to: BackupSettings())
        }
    }

    @Test("a PostgreSQL dump backs up incrementally: content-defined chunks, and appended rows add a fraction")
    func postgresDump() async throws {
        let fixture = try await PostgresFixture.start(pairs: 20_000)
        try fixture.service.saveSettings(BackupSettings(format: .incremental))
        let first = try await fixture.service.createBackup()
        _ = try await offPool {
            try fixture.server.psql(
                "insert into ledger (pair, amount, memo) select g, s * g, repeat(md5(g::text), 3) "
                    + "from generate_series(20001, 20100) g, (values (1), (-1)) v(s)")
        }
        let second = try await fixture.service.createBackup()
        #expect(first.format == .incremental && second.format == .incremental)
        let firstBytes = try #require(first.sizeBytes)
        let secondBytes = try #require(second.sizeBytes)
        print("repository-writer figures (pg_dump): first added \(firstBytes), second added \(secondBytes)")
        #expect(secondBytes < firstBytes / 2)

        let repository = fixture.data.dataDirectory.repository
        let index = try RepositoryIndex(
            contentsOf: repository.appendingPathComponent(RepositoryLayout.index(second.id, encrypted: false)))
        let dump = try #require(index.files.first { $0.path == PostgresSource.entryName })
        #expect(dump.chunking == FileChunker.dumpChunking && !dump.chunks.isEmpty)
        // The dump reassembles from its chunks to the manifest's SHA-256.
        let locator = CatalogChunkLocator(catalog: fixture.service.catalog)
        var hash = SHA256()
        for chunk in dump.chunks {
            let location = try #require(try locator.locate(chunk))
            let pack = repository.appendingPathComponent(RepositoryLayout.pack(location.pack, encrypted: false))
            hash.update(data: try PackReader(url: pack).chunk(location.entry))
        }
        let entry = try #require(index.manifest.entries.first { $0.path == PostgresSource.entryName })
        #expect(hash.finalize().hexString == entry.sha256)
        #expect(index.manifest.postgresql != nil)
    }

    @Test(
        "encryption on: the repository's own key is age-encrypted to the operator's, packs and indexes are age files the age tool opens"
    )
    func encryptedRepository() async throws {
        let fixture = try Fixture(rows: 30_000)
        let operatorKey = try BackupKey(dataDirectory: fixture.data.dataDirectory).generate(now: Date())
        var settings = try fixture.service.catalog.settings()
        settings.encryption.enabled = true
        try fixture.service.saveSettings(settings)
        let first = try await fixture.service.createBackup()
        #expect(first.encrypted && first.format == .incremental && first.filename == "\(first.id).json.zst.age")

        let root = fixture.repository
        let config = try JSONDecoder.backupManager().decode(
            RepositoryConfig.self, from: Data(contentsOf: root.appendingPathComponent("config.json")))
        let recipient = try #require(config.recipient)
        #expect(config.encrypted)
        // The age tool as the oracle: the operator's key opens the repository's key, whose
        // recipient is the config's; that key opens the index (zstd JSON) and every pack.
        let keyFile = fixture.data.url.appendingPathComponent("repository-identity.txt")
        let opened = try ChildProcess(executablePath: "/usr/bin/age").run([
            "-d", "-i", fixture.data.dataDirectory.backupKey.path,
            root.appendingPathComponent(RepositoryLayout.keyFile).path,
        ])
        #expect(opened.status == 0, "\(opened.stderr)")
        try Data(opened.stdout.utf8).write(to: keyFile)
        let derived = try ChildProcess(executablePath: "/usr/bin/age-keygen").run(["-y", keyFile.path])
        #expect(derived.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == recipient)
        let index = root.appendingPathComponent(RepositoryLayout.index(first.id, encrypted: true))
        let json = try ChildProcess(executablePath: "/bin/sh").run([
            "-c", "age -d -i \"$0\" \"$1\" | zstd -dcq", keyFile.path, index.path,
        ])
        #expect(json.status == 0 && json.stdout.contains(#""format":"incremental""#), "\(json.stderr)")
        let packsFolder = root.appendingPathComponent(RepositoryLayout.packsFolder)
        let files = (FileManager.default.enumerator(atPath: packsFolder.path)?.allObjects as? [String] ?? [])
            .filter { $0.contains(".pack") }
        #expect(!files.isEmpty && files.allSatisfy { $0.hasSuffix(".pack.age") })
        for file in files {
            let url = packsFolder.appendingPathComponent(file)
            let name = String(url.lastPathComponent.dropLast(".pack.age".count))
            #expect(SHA256.hash(data: try Data(contentsOf: url)).hexString == name)
            let magic = try ChildProcess(executablePath: "/bin/sh").run([
                "-c", "age -d -i \"$0\" \"$1\" | head -c 8", keyFile.path, url.path,
            ])
            #expect(magic.stdout == "BMPACK1\n")
        }

        // The core's own seam reads it back: every file reassembles to its SHA-256.
        let identity = try RepositoryKey.unlock(at: root, keys: [.identity(operatorKey)])
        let indexPlain = try RepositoryCipher.open(
            [UInt8](try Data(contentsOf: index)), keys: [.identity(identity)], name: index.lastPathComponent)
        let decoded = try RepositoryIndex(fileBytes: indexPlain, name: index.lastPathComponent)
        let locator = CatalogChunkLocator(catalog: fixture.service.catalog)
        for file in decoded.files {
            var hash = SHA256()
            for chunk in file.chunks {
                let location = try #require(try locator.locate(chunk))
                let plain = fixture.data.url.appendingPathComponent("pack-\(location.pack)")
                try RepositoryCipher.openFile(
                    root.appendingPathComponent(RepositoryLayout.pack(location.pack, encrypted: true)), into: plain,
                    keys: [.identity(identity)])
                hash.update(data: try PackReader(url: plain).chunk(location.entry))
            }
            #expect(hash.finalize().hexString == decoded.manifest.entries.first { $0.path == file.path }?.sha256)
        }

        // Unchanged: the second adds its index alone. Encryption switched off: refused, nothing recorded.
        let second = try await fixture.service.createBackup()
        #expect(
            second.sizeBytes
                == FileOps.size(of: root.appendingPathComponent(RepositoryLayout.index(second.id, encrypted: true))))
        // Encryption switched off: refused when saved, naming the field; the settings stay.
        settings.encryption.enabled = false
        let refusedSave = #expect(throws: BackupError.self) { try fixture.service.saveSettings(settings) }
        guard case .invalidInput(let saveFields)? = refusedSave else {
            Issue.record("expected invalidInput, got \(String(describing: refusedSave))")
            return
        }
        #expect(saveFields["encryption.enabled"]?.contains("is encrypted") == true)
        #expect(try fixture.service.catalog.settings().encryption.enabled)
        // Switching to bundles with encryption off is accepted (the repository stays as it is);
        // back to incremental with encryption off is refused again.
        settings.format = .bundle
        try fixture.service.saveSettings(settings)
        settings.format = .incremental
        #expect(throws: BackupError.self) { try fixture.service.saveSettings(settings) }
        // Settings stored behind the check's back (an older version): the backup still refuses.
        _ = try fixture.service.catalog.saveSettings(settings, now: Date())
        let refused = #expect(throws: BackupError.self) { try fixture.service.prepareBackup(type: .manual, note: nil) }
        guard case .invalidInput(let fields)? = refused else {
            Issue.record("expected invalidInput, got \(String(describing: refused))")
            return
        }
        #expect(fields["encryption.enabled"]?.contains("is encrypted") == true)
        #expect(try fixture.service.catalog.page(BackupQuery()).items.count == 2)
    }

    @Test(
        "a cancel after a sealed pack: the record says cancelled, no index, no partial file, rows only for placed packs"
    )
    func cancelAfterSealedPack() async throws {
        var fixture = try Fixture(rows: 200_000)
        let gate = PauseGate()
        fixture.service.repositoryAfterPack = { _ in gate.pauseOnFirstCall() }
        let prepared = try fixture.service.prepareBackup(type: .manual, note: nil)
        let service = fixture.service
        let job = Task { try await service.run(prepared) }
        await gate.waitUntilPaused()
        job.cancel()
        gate.release()
        await #expect(throws: BackupError.cancelled) { try await job.value }
        let record = try fixture.service.catalog.record(id: prepared.record.id)
        #expect(record.status == .cancelled)
        #expect(
            !FileOps.exists(
                fixture.repository.appendingPathComponent(RepositoryLayout.index(record.id, encrypted: false))))
        #expect(fixture.data.temporaryFiles().isEmpty)
        let packs = Set(try fixture.service.catalog.repositoryPacks().map(\.name))
        #expect(!packs.isEmpty && packs == fixture.packFiles())
    }
}
