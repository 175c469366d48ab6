import BackupCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("Incremental backups through the API: download exports a bundle, verify reads the data on request")
struct IncrementalAPITests {
    static func size(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
    }

    /// Polls the backup until its verification differs from `before` and the server is idle.
    static func verified(
        _ client: some TestClientProtocol, id: String, after before: VerificationSummary?
    ) async throws -> BackupInfo {
        for _ in 0..<3000 {
            let info = try await waitUntilSettled(client, id: id)
            if let now = info.verification, now != before { return info }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }

    @Test("download: a .tar.zst export served whole that tar opens; verify: structure, read_data names a damaged pack")
    func downloadAndVerify() async throws {
        let directory = try RouteTests.dataDirectory("api-incremental", megabytes: 2)
        try await RouteTests.app(directory).test(.router) { client in
            let set = try await client.execute(
                uri: "/api/settings/backup", method: .put, headers: .auth,
                body: ByteBuffer(string: #"{"format": "incremental"}"#))
            #expect(set.status == .ok)
            let info = try await RouteTests.backup(client)
            #expect(info.status == .completed && info.format == .incremental)

            var headers = HTTPFields.auth
            headers[.range] = "bytes=10-109"
            let download = try await client.execute(
                uri: "/api/backups/\(info.id)/download", method: .get, headers: headers)
            #expect(download.status == .ok, "a range of an export is not offered: the whole file")
            let body = Data(download.body.readableBytesView)
            #expect(download.headers[.contentType] == "application/zstd")
            #expect(download.headers[.acceptRanges] == "none")
            #expect(
                download.headers[.eTag] == "\"\(SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined())\"")
            let disposition = download.headers[.contentDisposition] ?? ""
            #expect(disposition.contains("filename=\"backup-") && disposition.contains("-\(info.id).tar.zst\""))
            #expect(directory.temporaryFiles().isEmpty, "\(directory.temporaryFiles())")

            let scratch = TemporaryDirectory("api-incremental-opened")
            let bundle = scratch.url.appendingPathComponent("export.tar.zst")
            try body.write(to: bundle)
            let tar = try ChildProcess(executablePath: "/usr/bin/tar").run(["-xf", bundle.path, "-C", scratch.path])
            #expect(tar.status == 0, "\(tar.stderr)")
            let database = scratch.url.appendingPathComponent("database.sqlite").path
            #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"])
            #expect(try TestDB.fingerprint(database) == TestDB.fingerprint(directory.dataDirectory.database.path))

            let unknown = try await client.execute(
                uri: "/api/backups/\(info.id)/verify", method: .post, headers: .auth,
                body: ByteBuffer(string: #"{"read_date": true}"#))
            #expect(unknown.status == .unprocessableContent && unknown.errorFields?["read_date"] != nil)

            // A flipped byte inside the packs' data keeps their sizes: the structure check
            // passes; reading the data names the pack.
            let packs = directory.url.appendingPathComponent("backups/repository/packs")
            let pack = try #require(
                FileManager.default.subpathsOfDirectory(atPath: packs.path).filter { $0.hasSuffix(".pack") }
                    .map { packs.appendingPathComponent($0) }
                    .max { Self.size($0) < Self.size($1) })
            var bytes = [UInt8](try Data(contentsOf: pack))
            bytes[bytes.count / 3] ^= 0x08
            try Data(bytes).write(to: pack)
            var checked = try await waitUntilSettled(client, id: info.id).verification
            for (body, ok) in [(nil, true), (#"{"read_data": true}"#, false)] {
                let started = try await client.execute(
                    uri: "/api/backups/\(info.id)/verify", method: .post, headers: .auth,
                    body: body.map { ByteBuffer(string: $0) })
                #expect(started.status == .accepted)
                let verified = try await Self.verified(client, id: info.id, after: checked)
                checked = verified.verification
                #expect(
                    verified.verification?.ok == ok, "\(body ?? "{}"): \(String(describing: verified.verification))")
                if !ok {
                    #expect(verified.verification?.error?.contains(pack.lastPathComponent) == true)
                }
            }
            let damaged = try await client.execute(
                uri: "/api/backups/\(info.id)/download", method: .get, headers: .auth)
            #expect(damaged.status == .unprocessableContent && damaged.errorCode == "verification_failed")
            #expect(directory.temporaryFiles().isEmpty, "\(directory.temporaryFiles())")
        }
    }
}
