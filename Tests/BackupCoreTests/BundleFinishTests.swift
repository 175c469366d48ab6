import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Finishing a bundle: the writer, an import and reconciliation all go through the store's put or seal")
struct BundleFinishTests {
    /// A completed backup made in another data directory: its bundle file and its info.
    static func foreignBundle() async throws -> (TemporaryDirectory, URL, BackupInfo) {
        let other = TemporaryDirectory("finish-foreign")
        try SampleDatabase.create(at: other.dataDirectory.database, megabytes: 1)
        let info = try await BackupService(dataDirectory: other.dataDirectory).createBackup()
        return (other, other.dataDirectory.backups.appendingPathComponent(info.filename), info)
    }

    /// Whether every bundle in `backups/` has a sidecar that names it with a 64-digit hash.
    static func everyBundleHasItsSidecar(_ directory: TemporaryDirectory) -> Bool {
        let backups = directory.dataDirectory.backups
        return directory.backupFiles().filter(BundleName.isBundleFilename).allSatisfy { name in
            let text = try? String(contentsOf: backups.appendingPathComponent(name + ".sha256"), encoding: .utf8)
            return text?.hasSuffix("  \(name)\n") == true && text?.split(separator: " ").first?.count == 64
        }
    }

    /// The put steps a store took, each with whether every bundle in `backups/` had its sidecar then.
    final class StepLog: Sendable {
        private let entries = Mutex<[(LocalStore.PutStep, Bool)]>([])
        func append(_ step: LocalStore.PutStep, _ whole: Bool) { entries.withLock { $0.append((step, whole)) } }
        var steps: [LocalStore.PutStep] { entries.withLock { $0.map(\.0) } }
        var alwaysWhole: Bool { entries.withLock { $0.allSatisfy(\.1) } }
    }

    /// A service whose local store logs each put step.
    static func watched(_ directory: TemporaryDirectory) throws -> (BackupService, StepLog) {
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        let log = StepLog()
        service.localStore.observe = { step in log.append(step, Self.everyBundleHasItsSidecar(directory)) }
        return (service, log)
    }

    @Test("a backup finishes through the store's put: each step leaves no sidecar-less bundle")
    func backupUsesPut() async throws {
        let directory = TemporaryDirectory("finish-backup")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let (service, steps) = try Self.watched(directory)
        let info = try await service.createBackup()
        #expect(steps.steps == LocalStore.PutStep.allCases)
        #expect(steps.alwaysWhole)
        let record = try service.catalog.record(id: info.id)
        #expect(record.store == LocalStore.storeName)
        #expect(try service.store(for: record).checksum(of: record.filename) == info.sha256)
    }

    @Test("an import finishes through the same put as a backup: each step leaves no sidecar-less bundle")
    func importUsesPut() async throws {
        let (foreignDirectory, bundle, foreign) = try await Self.foreignBundle()
        defer { withExtendedLifetime(foreignDirectory) {} }
        let directory = TemporaryDirectory("finish-import")
        let (service, steps) = try Self.watched(directory)
        let info = try service.importBundle(from: bundle)
        #expect(info.id == foreign.id)
        #expect(steps.steps == LocalStore.PutStep.allCases)
        #expect(steps.alwaysWhole)
        #expect(directory.backupFiles() == [info.filename, info.filename + ".sha256"])
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("adopting a bundle whose sidecar a crash left empty seals it with a complete sidecar")
    func adoptReplacesAnEmptySidecar() async throws {
        let (foreignDirectory, bundle, foreign) = try await Self.foreignBundle()
        defer { withExtendedLifetime(foreignDirectory) {} }
        let directory = TemporaryDirectory("finish-adopt")
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let backups = directory.dataDirectory.backups
        try FileManager.default.copyItem(at: bundle, to: backups.appendingPathComponent(foreign.filename))
        // What a process killed between creating the sidecar and writing it leaves behind.
        FileManager.default.createFile(
            atPath: backups.appendingPathComponent(foreign.filename + ".sha256").path, contents: nil)

        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.adopted == [foreign.id])
        #expect(report.quarantined.isEmpty)
        let sidecar = try String(
            contentsOf: backups.appendingPathComponent(foreign.filename + ".sha256"), encoding: .utf8)
        #expect(sidecar == "\(foreign.sha256!)  \(foreign.filename)\n")
        #expect(try service.catalog.record(id: foreign.id).status == .completed)
        #expect(directory.temporaryFiles().isEmpty)
    }

    @Test("adopting a bundle copied in without a sidecar gives it one, through .tmp/ and a rename")
    func adoptWritesTheSidecarDurably() async throws {
        let (foreignDirectory, bundle, foreign) = try await Self.foreignBundle()
        defer { withExtendedLifetime(foreignDirectory) {} }
        let directory = TemporaryDirectory("finish-adopt-steps")
        let (service, steps) = try Self.watched(directory)
        try FileManager.default.copyItem(
            at: bundle, to: directory.dataDirectory.backups.appendingPathComponent(foreign.filename))
        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.adopted == [foreign.id])
        #expect(steps.steps == [.bundleSynced, .sidecarSynced, .sidecarInPlace])
        #expect(Self.everyBundleHasItsSidecar(directory))
    }

    @Test("recovering a record whose bundle lost its sidecar (killed between the old writer's renames) writes one")
    func recoverSealsTheBundle() async throws {
        let directory = TemporaryDirectory("finish-recover")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let service = try BackupService(dataDirectory: directory.dataDirectory)
        let info = try await service.createBackup()
        var record = try service.catalog.record(id: info.id)
        record.status = .running
        try service.catalog.update(record)
        let sidecar = directory.dataDirectory.backups.appendingPathComponent(info.filename + ".sha256")
        try FileManager.default.removeItem(at: sidecar)

        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.recovered == [info.id])
        #expect(try service.catalog.record(id: info.id).status == .completed)
        #expect(try String(contentsOf: sidecar, encoding: .utf8) == "\(info.sha256!)  \(info.filename)\n")
    }

    @Test(
        "a recovered bundle (the process died before its record said completed) is queued for its off-site copy when copies are on"
    )
    func recoveredBundleQueuedForUpload() async throws {
        let directory = TemporaryDirectory("finish-recover-offsite")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        let info = try await service.createBackup()
        // Off-site copies on (no bucket is needed to queue one), and the record as a job killed
        // between the bundle's rename and its record's update leaves it.
        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-never-used",
        ])
        var settings = try service.catalog.settings()
        settings.offsite.enabled = true
        settings.offsite.endpoint = "http://127.0.0.1:9"
        settings.offsite.bucket = "never-reached"
        settings.offsite.accessKeyID = "AKIDEXAMPLE"
        settings.offsite.secretAccessKeySet = true
        try service.catalog.saveSettings(settings, now: Date())
        var record = try service.catalog.record(id: info.id)
        record.status = .running
        record.offsiteStatus = .none
        try service.catalog.update(record)

        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.recovered == [info.id])
        #expect(try service.catalog.record(id: info.id).offsiteStatus == .pending)
        #expect(try service.catalog.backupsAwaitingUpload().map(\.id) == [info.id])
    }
}
