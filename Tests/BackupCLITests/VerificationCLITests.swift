import BackupCore
import Foundation
import TestSupport
import Testing

extension CLITests {
    @Test("verify --all counts verified, failed and missing bundles and exits 3; list and show warn about them")
    func honestVerification() throws {
        let directory = TemporaryDirectory("cli-verify-honest")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        var made: [BackupInfo] = []
        for _ in 0..<4 {
            made.append(try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"])))
        }
        let (damaged, gone) = (made[1], made[2])
        let backups = directory.url.appendingPathComponent("backups")
        let bundle = backups.appendingPathComponent(damaged.filename)
        var bytes = try Data(contentsOf: bundle)
        bytes[bytes.count / 2] ^= 0x20
        try bytes.write(to: bundle)
        try FileManager.default.removeItem(at: backups.appendingPathComponent(gone.filename))

        let all = try backup.run(["verify", "--all", "--data-dir", directory.path])
        #expect(all.status == 3)
        #expect(all.stdout.hasSuffix("2 verified, 1 failed, 1 missing\n"), "\(all.stdout)")
        #expect(all.stdout.contains("FAILED   \(damaged.id): "))
        #expect(all.stdout.contains("MISSING  \(gone.id): "))

        let listed = try json([BackupInfo].self, try backup.run(["list", "--json", "--data-dir", directory.path]))
        let byID = Dictionary(uniqueKeysWithValues: listed.map { ($0.id, $0) })
        #expect(byID[gone.id]?.status == .missing)
        #expect(byID[damaged.id]?.status == .completed)
        #expect(byID[damaged.id]?.verification?.ok == false)
        #expect(byID[damaged.id]?.verification?.error?.isEmpty == false)
        #expect(byID[made[0].id]?.verification?.ok == true)

        let table = try backup.run(["list", "--data-dir", directory.path]).stdout
        let damagedRow = table.split(separator: "\n").first { $0.hasPrefix(damaged.id) }
        #expect(damagedRow?.contains("completed !") == true, "\(table)")
        #expect(table.contains("! \(damaged.id): verification failed "), "\(table)")
        #expect(table.contains("! \(gone.id): "), "\(table)")
        let okRow = table.split(separator: "\n").first { $0.hasPrefix(made[0].id) }
        #expect(okRow?.contains("!") == false)

        let shown = try backup.run(["show", damaged.id, "--data-dir", directory.path]).stdout
        #expect(shown.contains("status    completed !"), "\(shown)")
        #expect(shown.contains("verified  ! failed "), "\(shown)")
        let shownJSON = try json(
            BackupInfo.self, try backup.run(["show", damaged.id, "--json", "--data-dir", directory.path]))
        #expect(shownJSON.verification?.ok == false)
    }

    @Test("when the only bundle is deleted, verify ID and verify --all report it missing and exit 3")
    func onlyBundleDeleted() throws {
        let directory = TemporaryDirectory("cli-verify-missing")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let info = try json(BackupInfo.self, try backup.run(["create", "--data-dir", directory.path, "--json"]))
        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("backups/\(info.filename)"))

        let one = try backup.run(["verify", info.id, "--json", "--data-dir", directory.path])
        #expect(one.status == 3)
        #expect(one.stdout.contains("\"status\" : \"missing\""), "\(one.stdout)")
        let all = try backup.run(["verify", "--all", "--data-dir", directory.path])
        #expect(all.status == 3)
        #expect(all.stdout.hasSuffix("0 verified, 0 failed, 1 missing\n"), "\(all.stdout)")
        let shown = try json(
            BackupInfo.self, try backup.run(["show", info.id, "--json", "--data-dir", directory.path]))
        #expect(shown.status == .missing)
        #expect(shown.verification?.ok == false)
    }
}
