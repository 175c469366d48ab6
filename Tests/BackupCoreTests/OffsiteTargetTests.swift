import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("offsiteTarget: what replication connects with, the environment winning over what is stored")
struct OffsiteTargetTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test("nil while copies are off; the stored settings and secret while on; AWS_* variables win")
    func target() throws {
        let directory = TemporaryDirectory("offsite-target")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        #expect(try service.offsiteTarget() == nil)

        var settings = BackupSettings()
        settings.offsite = OffsiteSettings(
            enabled: true, endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", bucket: "acme-backups",
            prefix: "budget/prod/", accessKeyID: "AKIAIOSFODNN7EXAMPLE", caFile: "/etc/ssl/ca.pem",
            retention: RetentionPolicy(keepLast: 2, includeManual: true))
        try service.saveSettings(settings, secretChange: .set(SecretText(Self.secret)))
        let target = try #require(try service.offsiteTarget())
        #expect(target.location.endpoint == URL(string: "https://s3.eu-west-1.amazonaws.com"))
        #expect(target.location.region == "eu-west-1" && target.location.bucket == "acme-backups")
        #expect(!target.location.pathStyle && target.location.caFile == "/etc/ssl/ca.pem")
        #expect(target.prefix == "budget/prod" && target.retention.keepLast == 2 && target.retention.includeManual)
        #expect(target.credentials.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(target.credentials.secretAccessKey == Self.secret)

        service.offsiteEnvironment = OffsiteEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT", "AWS_SECRET_ACCESS_KEY": "from-the-environment",
        ])
        let overridden = try #require(try service.offsiteTarget())
        #expect(overridden.credentials.accessKeyID == "AKIAFROMENVIRONMENT")
        #expect(overridden.credentials.secretAccessKey == "from-the-environment")
    }

    @Test("on, but the secret file gone: not_configured naming the secret")
    func secretMissing() throws {
        let directory = TemporaryDirectory("offsite-target-missing")
        var service = try BackupService(dataDirectory: directory.dataDirectory)
        service.offsiteEnvironment = OffsiteEnvironment([:])
        var settings = BackupSettings()
        settings.offsite = OffsiteSettings(
            enabled: true, endpoint: "http://127.0.0.1:9000", bucket: "acme-backups", pathStyle: true,
            accessKeyID: "AKIAIOSFODNN7EXAMPLE")
        try service.saveSettings(settings, secretChange: .set(SecretText(Self.secret)))
        try FileManager.default.removeItem(at: directory.dataDirectory.offsiteSecret)
        let error = #expect(throws: BackupError.self) { try service.offsiteTarget() }
        guard case .offsite(let failure) = error else { return }
        #expect(failure.kind == .notConfigured)
        #expect(failure.detail.contains("offsite.secret_access_key"))
    }
}
