import Foundation
import Prometheus
import TestSupport
import Testing

@testable import BackupCore

/// The core counts where its work ends (so the CLI and the server count alike), into the factory
/// the service is given: here a real Prometheus registry of the test's own, never the global one.
@Suite("BackupMetrics: backups, verifications and retention counted in the core")
struct BackupMetricsTests {
    /// A service on a fresh data directory counting into its own registry.
    static func service(_ name: String) throws -> (TemporaryDirectory, BackupService, PrometheusCollectorRegistry) {
        let directory = TemporaryDirectory(name)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = BackupMetrics.durationHistograms
        factory.valueHistogramBuckets = BackupMetrics.valueHistograms
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.metrics = BackupMetrics(factory: factory)
        return (directory, service, registry)
    }

    /// `series value` lines of the exposition, by series (`name{labels}`).
    static func samples(_ registry: PrometheusCollectorRegistry) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in registry.emitToString().split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test("a completed and a failed backup: counted by type, scope and status, with duration, size and bytes")
    func backupsCounted() async throws {
        let (directory, service, registry) = try Self.service("metrics-backups")
        service.metrics.registerCounters()
        let info = try await service.createBackup()
        try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
        await #expect(throws: BackupError.self) { try await service.createBackup(type: .auto) }

        let samples = Self.samples(registry)
        #expect(samples[#"backup_backups_total{type="manual",scope="database",status="succeeded"}"#] == 1)
        #expect(samples[#"backup_backups_total{type="auto",scope="database",status="failed"}"#] == 1)
        #expect(samples[#"backup_backups_total{type="manual",scope="database",status="failed"}"#] == 0)
        #expect(samples[#"backup_duration_seconds_count{type="manual",scope="database"}"#] == 1)
        #expect(samples[#"backup_duration_seconds_count{type="auto",scope="database"}"#] == 1)
        #expect(samples[#"backup_duration_seconds_bucket{type="manual",scope="database",le="28800.0"}"#] == 1)
        let size = Double(try #require(info.sizeBytes))
        #expect(samples[#"backup_size_bytes_sum{scope="database"}"#] == size)
        #expect(samples[#"backup_size_bytes_count{scope="database"}"#] == 1, "a failed backup has no size")
        #expect(samples["backup_written_bytes_total"] == size)
    }

    @Test("verifications counted by verdict: verified, failed (damaged bundle), missing (bundle gone)")
    func verificationsCounted() async throws {
        let (directory, service, registry) = try Self.service("metrics-verify")
        let whole = try await service.createBackup()
        let damaged = try await service.createBackup()
        let gone = try await service.createBackup()
        try await service.verify(id: whole.id)
        let damagedFile = directory.dataDirectory.backups.appendingPathComponent(damaged.filename)
        var bytes = try Data(contentsOf: damagedFile)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: damagedFile)
        await #expect(throws: BackupError.self) { try await service.verify(id: damaged.id) }
        try FileManager.default.removeItem(at: directory.dataDirectory.backups.appendingPathComponent(gone.filename))
        // The bundle's absence is noticed by the verification itself (no reconciliation between).
        let prepared = try service.prepareVerification(id: gone.id)
        #expect(throws: BackupError.self) { try service.runVerification(prepared) }

        let samples = Self.samples(registry)
        #expect(samples[#"backup_verifications_total{result="verified"}"#] == 1)
        #expect(samples[#"backup_verifications_total{result="failed"}"#] == 1)
        #expect(samples[#"backup_verifications_total{result="missing"}"#] == 1)
        #expect(samples[#"backup_verifications_total{result="error"}"#] == nil, "never counted, never registered")
        #expect(samples["backup_verification_failures_total"] == 2)
    }

    @Test("retention deletions counted where they happen (local)")
    func retentionCounted() async throws {
        let (directory, service, registry) = try Self.service("metrics-retention")
        defer { withExtendedLifetime(directory) {} }
        for _ in 0..<3 { try await service.createBackup() }
        var settings = try service.catalog.settings()
        settings.retention = RetentionPolicy(keepLast: 1, includeManual: true)
        #expect(try service.saveSettings(settings).deleted.count == 2)
        #expect(Self.samples(registry)[#"backup_retention_deleted_total{where="local"}"#] == 2)
    }

    @Test("off-site uploads counted by status; the catalog's lag is the oldest waiting backup's age, 0 once copied")
    func uploadsCountedAndLagRead() async throws {
        let moto = try await MotoServer()
        let (directory, plain, registry) = try Self.service("metrics-upload")
        defer { withExtendedLifetime(directory) {} }
        var service = try OffsiteUploadTests.service(directory, moto, secret: "wrong-secret-0123456789abcdefghijklmnop")
        service.metrics = plain.metrics
        let info = try await service.createBackup()
        #expect(info.offsite.status == .failed)
        let completedAt = try #require(info.completedAt)
        let waiting = try await service.catalog.async.figures()
        #expect(waiting.oldestAwaitingUploadAt == completedAt)
        #expect(waiting.offsiteLag(at: completedAt.addingTimeInterval(100)) == 100)
        #expect(Self.samples(registry)[#"backup_offsite_uploads_total{status="failed"}"#] == 1)

        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
        ])
        #expect(try await service.push(id: info.id).offsite.status == .uploaded)
        #expect(Self.samples(registry)[#"backup_offsite_uploads_total{status="succeeded"}"#] == 1)
        let copied = try await service.catalog.async.figures()
        #expect(copied.oldestAwaitingUploadAt == nil)
        #expect(copied.offsiteLag(at: Date()) == 0)
    }
}
