import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Incremental backups read back: restore, verify (structure and --read-data), download, export")
struct RepositoryReadTests {
    typealias Fixture = RepositoryExportTests.Fixture

    @Test("a restore exports to .tmp, verifies, and puts the database and the tree back exactly; the export goes")
    func restores() async throws {
        let fixture = try await Fixture()
        let data = fixture.service.dataDirectory
        let before = try TestDB.fingerprint(data.database.path)
        let uploads = fixture.uploads
        let tree = try DirectoryTree.read(uploads)
        try TestDB.execute(data.database.path, "DELETE FROM filler WHERE id % 3 = 0; UPDATE account SET balance = id")
        try SampleTree.change(at: uploads)
        #expect(try TestDB.fingerprint(data.database.path) != before)

        let prepared = try fixture.service.prepareRestore(.backup(id: fixture.id))
        try await fixture.service.runRestore(prepared)
        #expect(try TestDB.fingerprint(data.database.path) == before)
        #expect(try DirectoryTree.read(uploads) == tree)
        #expect(fixture.scratch.temporaryFiles().isEmpty, "\(fixture.scratch.temporaryFiles())")
    }

    @Test("a restore of a damaged incremental backup is refused before anything is touched")
    func damagedRestoreRefused() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let data = fixture.service.dataDirectory
        try TestDB.execute(data.database.path, "UPDATE account SET balance = id")
        let changed = try TestDB.fingerprint(data.database.path)
        let (name, url, _) = try fixture.pack(of: SQLiteSource.entryName)
        try FileManager.default.removeItem(at: url)
        let error = #expect(throws: BackupError.self) { try fixture.service.prepareRestore(.backup(id: fixture.id)) }
        #expect(error?.message.contains("pack \(name) is missing") == true, "\(error?.message ?? "")")
        #expect(try TestDB.fingerprint(data.database.path) == changed)
        #expect(fixture.scratch.temporaryFiles().isEmpty, "\(fixture.scratch.temporaryFiles())")
    }

    @Test("verify checks the structure without reading chunks; --read-data reads every byte")
    func verifyStructureAndData() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let service = fixture.service
        let report = try await service.verify(id: fixture.id)
        #expect(report.isValid && report.manifest == fixture.forged.index.manifest)
        #expect(try service.catalog.record(id: fixture.id).info.verification?.ok == true)
        let full = try await service.verify(id: fixture.id, readData: true)
        #expect(full.isValid, "\(full.problems)")

        // A flipped byte keeps the pack's size: the structure check passes, reading the data does not.
        let (name, url, entry) = try fixture.pack(of: SQLiteSource.entryName)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[Int(entry.offset + entry.length / 2)] ^= 0x01
        try Data(bytes).write(to: url)
        #expect(try await service.verify(id: fixture.id).isValid)
        let error = await #expect(throws: BackupError.self) { try await service.verify(id: fixture.id, readData: true) }
        #expect(error?.message.contains("pack \(name).pack: chunk \(entry.sha256)") == true, "\(error?.message ?? "")")
        let recorded = try service.catalog.record(id: fixture.id).info.verification
        #expect(recorded?.ok == false && recorded?.error?.contains(entry.sha256) == true)
        #expect(fixture.scratch.temporaryFiles().isEmpty, "\(fixture.scratch.temporaryFiles())")

        // A cut pack has another size than the catalog's: the structure check notices.
        try Data(bytes.dropLast(10)).write(to: url)
        let cut = await #expect(throws: BackupError.self) { try await service.verify(id: fixture.id) }
        #expect(cut?.message.contains("pack \(name) has \(bytes.count - 10) bytes") == true, "\(cut?.message ?? "")")

        // A missing pack too, and the record stays (its index is there).
        try FileManager.default.removeItem(at: url)
        let missing = await #expect(throws: BackupError.self) { try await service.verify(id: fixture.id) }
        #expect(missing?.message.contains("pack \(name) is missing") == true, "\(missing?.message ?? "")")
        #expect(try service.catalog.record(id: fixture.id).status == .completed)
    }

    @Test("a missing index makes the backup missing; a changed index fails on its SHA-256")
    func missingIndex() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let service = fixture.service
        let index = service.dataDirectory.repository.appendingPathComponent(
            RepositoryLayout.index(fixture.id, encrypted: false))
        var changed = fixture.forged.index
        changed.manifest.toolVersion = "elsewhere"
        try RepositoryForge.write(changed, to: index)
        let error = await #expect(throws: BackupError.self) { try await service.verify(id: fixture.id) }
        #expect(error?.message.contains("the index file's SHA-256 is") == true, "\(error?.message ?? "")")

        try FileManager.default.removeItem(at: index)
        let gone = await #expect(throws: BackupError.self) { try await service.verify(id: fixture.id) }
        #expect(gone?.message.contains("the index file \(fixture.id).json.zst is missing") == true)
        #expect(try service.catalog.record(id: fixture.id).status == .missing)
    }

    @Test("a download exports a .tar.zst that verifies, named as a bundle; it goes once the download is dropped")
    func download() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let service = fixture.service
        #expect(try service.downloadableRecord(id: fixture.id).id == fixture.id)
        let received = fixture.output("received.tar.zst")
        do {
            let download = try service.downloadableBundle(id: fixture.id)
            #expect(download.isExport && download.contentType == "application/zstd")
            #expect(download.filename.hasPrefix("backup-") && download.filename.hasSuffix("-\(fixture.id).tar.zst"))
            #expect(fixture.scratch.temporaryFiles().count == 1)
            // A job starting meanwhile empties .tmp/, but leaves the export being served.
            try service.beginJob().release()
            #expect(fixture.scratch.temporaryFiles().count == 1)
            var bytes: [UInt8] = []
            while Int64(bytes.count) < download.sizeBytes {
                let length = Int(min(100_000, download.sizeBytes - Int64(bytes.count)))
                bytes += try download.read(offset: Int64(bytes.count), length: length)
            }
            #expect(SHA256.hash(data: bytes).hexString == download.sha256)
            try Data(bytes).write(to: received)
        }
        #expect(fixture.scratch.temporaryFiles().isEmpty, "\(fixture.scratch.temporaryFiles())")
        #expect(try fixture.verify(received).isValid)
    }

    @Test("backup export: an incremental backup as .tar.gz that tar opens; never over a file; a bundle copied")
    func exportFile() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let service = fixture.service
        let target = fixture.output("x.tar.gz")
        let exported = try service.exportBackup(id: fixture.id, to: target)
        #expect(exported.fromRepository && exported.codec == .gzip)
        #expect(exported.sha256 == SHA256.hash(data: try Data(contentsOf: target)).hexString)
        #expect(!FileOps.exists(URL(fileURLWithPath: target.path + ".partial")))
        let opened = fixture.output("opened")
        try FileManager.default.createDirectory(at: opened, withIntermediateDirectories: true)
        let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xzpf", target.path, "-C", opened.path])
        #expect(tar.status == 0, "\(tar.stderr)")
        #expect(
            try TestDB.strings(opened.appendingPathComponent("database.sqlite").path, "PRAGMA integrity_check") == [
                "ok"
            ])
        let differences = try fixture.differences(opened, fixture.forged.extracted)
        #expect(differences.isEmpty, "\(differences)")

        let again = #expect(throws: BackupError.self) { try service.exportBackup(id: fixture.id, to: target) }
        #expect(again?.code == "validation_failed" && again?.message.contains("never overwrites") == true)
        #expect(exported.sha256 == SHA256.hash(data: try Data(contentsOf: target)).hexString)
        #expect(throws: BackupError.self) { try service.exportBackup(id: fixture.id, to: fixture.output("x.zip")) }

        // A bundle backup: copied when the extension matches its codec (gzip by default), else refused.
        let bundle = try await service.createBackup(scope: .database)
        let copy = try service.exportBackup(id: bundle.id, to: fixture.output("b.tar.gz"))
        #expect(!copy.fromRepository && copy.sha256 == bundle.sha256)
        let mismatch = #expect(throws: BackupError.self) {
            try service.exportBackup(id: bundle.id, to: fixture.output("b.tar.zst"))
        }
        #expect(mismatch?.message.contains(".tar.gz bundle") == true, "\(mismatch?.message ?? "")")
        #expect(!FileOps.exists(fixture.output("b.tar.zst")))
    }

    @Test(
        "an encrypted repository: verify, --read-data, export and restore open it with the bundle keys; no key is refused, not recorded"
    )
    func encrypted() async throws {
        let data = TemporaryDirectory("repo-read-encrypted")
        let database = data.dataDirectory.database.path
        try SampleDatabase.create(at: data.dataDirectory.database, megabytes: 2)
        let service = try BackupService(dataDirectory: data.dataDirectory)
        _ = try BackupKey(dataDirectory: data.dataDirectory).generate(now: Date())
        var settings = BackupSettings(format: .incremental)
        settings.encryption.enabled = true
        try service.saveSettings(settings)
        let info = try await service.createBackup()
        #expect(info.format == .incremental && info.filename.hasSuffix(".json.zst.age"))
        let before = try TestDB.fingerprint(database)

        let structure = try await service.verify(id: info.id)
        #expect(structure.isValid && structure.encrypted, "\(structure.problems)")
        #expect(try await service.verify(id: info.id, readData: true).isValid)
        let scratch = TemporaryDirectory("repo-read-encrypted-out")
        let exported = try service.exportBackup(id: info.id, to: scratch.url.appendingPathComponent("x.tar.zst"))
        let report = try BundleVerifier().verify(
            bundle: URL(fileURLWithPath: exported.path), expectedSHA256: exported.sha256, expectedID: info.id,
            temporary: scratch.url)
        #expect(report.isValid && !report.encrypted, "an export is a plain bundle: \(report.problems)")

        try TestDB.execute(database, "UPDATE account SET balance = id")
        try await service.runRestore(try service.prepareRestore(.backup(id: info.id)))
        #expect(try TestDB.fingerprint(database) == before)
        #expect(data.temporaryFiles().isEmpty, "no decrypted pack left: \(data.temporaryFiles())")

        // Without the key: refused with the bundle's words, and the backup's verification stands.
        try FileManager.default.moveItem(
            at: data.url.appendingPathComponent("backup-key"), to: scratch.url.appendingPathComponent("backup-key"))
        let error = await #expect(throws: BackupError.self) { try await service.verify(id: info.id) }
        #expect(error?.message.contains(EncryptedBundle.noKeyPrefix) == true, "\(error?.message ?? "")")
        #expect(try service.catalog.record(id: info.id).info.verification?.ok == true)
    }
}
