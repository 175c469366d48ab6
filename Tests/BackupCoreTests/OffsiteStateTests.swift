import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Off-site state of a backup: catalog, retention, reconciliation")
struct OffsiteStateTests {
    /// A service with `count` completed manual backups, oldest first.
    static func service(
        _ directory: TemporaryDirectory, backups count: Int
    ) async throws -> (
        BackupService, [BackupInfo]
    ) {
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        var made: [BackupInfo] = []
        for _ in 0..<count { made.append(try await service.createBackup()) }
        return (service, made)
    }

    @Test("a new backup's JSON carries offsite {status none, key, uploaded_at, error} with nulls")
    func jsonShape() async throws {
        let directory = TemporaryDirectory("offsite-json")
        let (_, made) = try await Self.service(directory, backups: 1)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder.backupManager().encode(made[0])) as? [String: Any]
        let offsite = try #require(json?["offsite"] as? [String: Any])
        #expect(offsite["status"] as? String == "none")
        #expect(Set(offsite.keys) == ["status", "key", "uploaded_at", "error"])
        #expect(offsite["key"] is NSNull)
    }

    @Test("local retention keeps an uploaded backup as remote-only (store s3) instead of deleting its record")
    func retentionKeepsRemoteOnly() async throws {
        let directory = TemporaryDirectory("offsite-remote-only")
        let (service, made) = try await Self.service(directory, backups: 3)
        let (oldest, middle) = (made[0], made[1])
        try service.catalog.setOffsite(
            id: oldest.id, OffsiteCopy(status: .uploaded, key: "b/\(oldest.filename)", uploadedAt: Date()))
        var settings = try service.catalog.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        try service.catalog.saveSettings(settings, now: Date())
        let report = try service.prune()
        #expect(Set(report.deleted.map(\.id)) == [oldest.id, middle.id])
        // The uploaded one stays listed, remote-only; the other is gone; neither has a local file.
        let remoteOnly = try service.catalog.record(id: oldest.id)
        #expect(remoteOnly.store == S3Store.storeName)
        #expect(remoteOnly.status == .completed)
        #expect(remoteOnly.offsiteStatus == .uploaded)
        #expect(throws: BackupError.notFound(id: middle.id)) { try service.catalog.record(id: middle.id) }
        #expect(directory.backupFiles().allSatisfy { !$0.hasPrefix(oldest.filename) && !$0.hasPrefix(middle.filename) })
        // Bytes on disk count the local bundles only.
        #expect(try service.catalog.stats().totalBytes == made[2].sizeBytes)
        // A later prune does not count or touch the remote-only record again.
        #expect(try service.prune().deleted.isEmpty)
        #expect(try service.catalog.record(id: oldest.id).store == S3Store.storeName)
    }

    @Test(
        "while off-site copies are on, local retention keeps the only copy of a backup waiting for its upload",
        arguments: [OffsiteStatus.pending, .uploading, .failed])
    func retentionKeepsAwaitingUpload(status: OffsiteStatus) async throws {
        let directory = TemporaryDirectory("offsite-awaiting")
        let (service, made) = try await Self.service(directory, backups: 3)
        let (oldest, middle) = (made[0], made[1])
        try service.catalog.setOffsite(id: oldest.id, OffsiteCopy(status: status, key: "b/\(oldest.filename)"))
        var settings = try service.catalog.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        settings.offsite.enabled = true
        settings.offsite.endpoint = "http://127.0.0.1:9"
        settings.offsite.bucket = "bucket"
        settings.offsite.accessKeyID = "key"
        // Whether the secret is set is judged from the data directory; the catalog takes it as told.
        settings.offsite.secretAccessKeySet = true
        try service.catalog.saveSettings(settings, now: Date())
        #expect(try service.prune(dryRun: true).deleted.map(\.id) == [middle.id])
        #expect(try service.prune().deleted.map(\.id) == [middle.id])
        #expect(try service.catalog.record(id: oldest.id).store == LocalStore.storeName)
        #expect(directory.backupFiles().contains(oldest.filename))
        // Off-site copies off: the rules alone decide again.
        settings.offsite.enabled = false
        try service.catalog.saveSettings(settings, now: Date())
        #expect(try service.prune().deleted.map(\.id) == [oldest.id])
    }

    @Test("reconciliation leaves remote-only records alone: not missing, nothing adopted or quarantined")
    func reconciliationIgnoresRemoteOnly() async throws {
        let directory = TemporaryDirectory("offsite-reconcile")
        let (service, made) = try await Self.service(directory, backups: 1)
        var record = try service.catalog.record(id: made[0].id)
        record.store = S3Store.storeName
        record.offsiteStatus = .uploaded
        try service.catalog.update(record)
        for name in [record.filename, BundleName.sidecar(for: record.filename)] {
            try FileManager.default.removeItem(at: directory.dataDirectory.backups.appendingPathComponent(name))
        }
        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.missing.isEmpty)
        #expect(report.quarantined.isEmpty)
        #expect(try service.catalog.record(id: record.id).status == .completed)
    }

    @Test("an upload left `uploading` by a dead process is `pending` again once the job lock is taken")
    func interruptedUploadIsPending() async throws {
        let directory = TemporaryDirectory("offsite-interrupted")
        let (service, made) = try await Self.service(directory, backups: 1)
        try service.catalog.setOffsite(id: made[0].id, OffsiteCopy(status: .uploading, key: "k"))
        try service.beginJob().release()
        #expect(try service.catalog.record(id: made[0].id).offsiteStatus == .pending)
    }

    @Test("the retention plan keeps a backup awaiting its upload whatever the rules say")
    func planKeepsAwaitingUpload() {
        let now = Date()
        let backups = (0..<3).map { index in
            var record = BackupRecord(
                id: BackupID.make(), type: .auto, createdAt: now.addingTimeInterval(Double(index - 3) * 3600), note: nil
            )
            record.status = .completed
            return record
        }
        let awaiting: Set<String> = [backups[0].id]
        let plan = Retention.plan(backups, policy: RetentionPolicy(keepLast: 1), now: now, awaitingUpload: awaiting)
        #expect(plan.kept[backups[0].id] == .awaitingUpload)
        #expect(plan.deleted == [backups[1].id])
    }

    @Test("bundle names parse back into time, type, id and codec; other names do not")
    func bundleNamesParse() {
        let date = Date(timeIntervalSince1970: 1_780_000_000)
        for type in BackupType.allCases {
            for codec in CodecName.allCases {
                let id = BackupID.make()
                let parts = BundleName.parse(BundleName.make(id: id, type: type, createdAt: date, codec: codec))
                #expect(parts == BundleName.Parts(createdAt: date, type: type, id: id, codec: codec))
            }
        }
        for foreign in [
            "photo.jpg", "backup-2026.tar.gz", "backup-20261301-000000-auto-0123456789abcdef.tar.gz",
            "backup-20260101-000000-weird-0123456789abcdef.tar.gz", "backup-20260101-000000-auto-0123.tar.gz",
            "backups/backup-20260101-000000-auto-0123456789abcdef.tar.gz",
        ] {
            #expect(BundleName.parse(foreign) == nil, "\(foreign)")
        }
    }
}
