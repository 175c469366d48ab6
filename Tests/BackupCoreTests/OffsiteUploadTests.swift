import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Off-site uploads against a real S3 server (moto): alerts and the runner's retry", .serialized)
struct OffsiteUploadTests {
    /// A service whose settings point at `moto`'s bucket, with `secret` from the environment.
    static func service(_ directory: TemporaryDirectory, _ moto: MotoServer, secret: String) throws -> BackupService {
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": secret,
        ])
        var settings = try service.catalog.settings()
        settings.webhookURL = "http://127.0.0.1:9/hook"
        settings.offsite.enabled = true
        settings.offsite.endpoint = moto.endpoint.absoluteString
        settings.offsite.region = moto.region
        settings.offsite.bucket = moto.bucket
        settings.offsite.pathStyle = true
        settings.offsite.accessKeyID = moto.credentials.accessKeyID
        settings.offsite.secretAccessKeySet = true
        try service.catalog.saveSettings(settings, now: Date())
        return service
    }

    @Test("a failed upload alerts the webhook (upload.failed) once; the runner's retry makes the copy later")
    func failedUploadAlertsAndIsRetried() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("offsite-alert")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        var service = try Self.service(directory, moto, secret: "wrong-secret-0123456789abcdefghijklmnop")
        let sent = Mutex<[AlertNotifier.Payload]>([])
        let alerts = AlertNotifier(catalog: service.catalog, backoff: []) { _, body in
            let payload = try JSONDecoder.backupManager().decode(AlertNotifier.Payload.self, from: body)
            sent.withLock { $0.append(payload) }
            return 200
        }
        let info = try await service.createBackup(alerts: alerts)
        #expect(info.status == .completed)
        #expect(info.offsite.status == .failed)
        #expect(sent.withLock { $0.map(\.event) } == ["upload.failed"])
        #expect(sent.withLock { $0.first?.backup?.id } == info.id)
        #expect(sent.withLock { $0.first?.message.contains("SignatureDoesNotMatch") } == true)

        // Failing again the same way is not news: no second alert.
        let runner = JobRunner(service: service, alerts: alerts)
        #expect(await runner.retryUpload()?.id == info.id)
        await runner.waitForCurrentJob()
        #expect(try service.catalog.record(id: info.id).offsiteStatus == .failed)
        #expect(sent.withLock { $0.count } == 1)

        // With the right secret, the retry (oldest waiting first) makes the copy; then nothing waits.
        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
        ])
        let fixed = JobRunner(service: service, alerts: alerts)
        #expect(await fixed.retryUpload()?.id == info.id)
        await fixed.waitForCurrentJob()
        let record = try service.catalog.record(id: info.id)
        #expect(record.offsiteStatus == .uploaded)
        #expect(try await moto.read(key: "backups/\(info.filename)").sha256 == info.sha256)
        #expect(await fixed.retryUpload() == nil)
    }

    @Test("start-up recovery aborts every stale multipart upload of ours under the prefix, never a foreign one")
    func recoveryAbortsStaleUploads() async throws {
        let moto = try await MotoServer()
        let directory = TemporaryDirectory("offsite-recovery")
        let service = try Self.service(directory, moto, secret: moto.credentials.secretAccessKey)
        let client = try S3Client(location: moto.location, credentials: moto.credentials)
        let ours = "backups/" + BundleName.make(id: BackupID.make(), type: .auto, createdAt: Date())
        _ = try await client.createMultipartUpload(key: ours, contentType: "application/gzip", metadata: [:])
        _ = try await client.createMultipartUpload(key: "backups/notes.txt", contentType: "text/plain", metadata: [:])
        let recovery = try await service.recoverOffsite()
        #expect(recovery.abortedUploads == 1)
        #expect(try await moto.multipartUploads().map(\.key) == ["backups/notes.txt"])
        await client.shutdown()
    }
}
