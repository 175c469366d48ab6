import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

@Suite("A record knows which store holds its bundle")
struct BundleLocationTests {
    @Test("migration v8: existing records are in the local store, under their file name")
    func existingRecordsAreLocal() throws {
        let directory = TemporaryDirectory("location-v8")
        try directory.dataDirectory.prepare()
        let queue = try DatabaseQueue(path: directory.dataDirectory.catalog.path)
        try Catalog.migrator(now: Date()).migrate(queue, upTo: "v6: import size limit")
        let id = BackupID.make()
        let filename = "backup-20260101-000000-manual-\(id).tar.gz"
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO backup(id, filename, type, status, created_at, recorded_at)
                    VALUES (?, ?, 'manual', 'completed', ?, ?)
                    """, arguments: [id, filename, Date(), Date()])
        }
        try queue.close()
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let record = try service.catalog.record(id: id)
        #expect(record.store == LocalStore.storeName)
        #expect(record.filename == filename)
        #expect(try service.store(for: record).name == "local")
        #expect(
            service.bundleLocation(of: record.info)
                == directory.dataDirectory.backups.appendingPathComponent(filename).path)
    }

    @Test("verify, download and delete ask the record's store: a store this version does not know is refused")
    func callersGoThroughTheRecordsStore() async throws {
        let directory = TemporaryDirectory("location-unknown")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let info = try await service.createBackup()
        var record = try service.catalog.record(id: info.id)
        record.store = "s3-offsite"
        try service.catalog.update(record)
        let files = directory.backupFiles()

        // The local file is there, but the record says it lives elsewhere: nobody joins paths.
        #expect(throws: BackupError.self) { try service.downloadableBundle(id: info.id) }
        #expect(throws: BackupError.self) { try service.prepareRestore(.backup(id: info.id)) }
        #expect(throws: BackupError.self) { try service.delete(id: info.id) }
        #expect(directory.backupFiles() == files)
        record.store = LocalStore.storeName
        try service.catalog.update(record)
        let download = try service.downloadableBundle(id: info.id)
        #expect(download.sizeBytes == info.sizeBytes)
        #expect(try download.read(offset: 0, length: 2) == [0x1F, 0x8B])
    }
}
