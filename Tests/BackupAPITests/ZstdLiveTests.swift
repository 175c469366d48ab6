import BackupCore
import Crypto
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("zstd bundles through the real backup-api binary", .serialized)
struct ZstdLiveTests {
    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var code: String
            var fields: [String: String]?
        }
        var error: Detail
    }

    @Test(
        "settings choose zstd (a bad pair is a 422 naming both fields); download says application/zstd; import takes it"
    )
    func zstdThroughTheAPI() async throws {
        let directory = TemporaryDirectory("live-zstd")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let server = try LiveServer(dataDirectory: directory.path)
        defer { _ = server.terminate() }
        try await server.waitUntilReady()

        let gzip = try await server.backupAndWait()
        let (_, gzipDownload) = try await server.request("GET", "/api/backups/\(gzip.id)/download")
        #expect(gzip.filename.hasSuffix(".tar.gz"))
        #expect(gzipDownload.value(forHTTPHeaderField: "Content-Type") == "application/gzip")

        for body in [#"{"compression_level": 12}"#, #"{"codec": "gzip", "compression_level": 19}"#] {
            let (data, refused) = try await server.request("PUT", "/api/settings/backup", body: Data(body.utf8))
            #expect(refused.statusCode == 422, "\(body)")
            let error = try JSONDecoder().decode(ErrorBody.self, from: data).error
            #expect(error.code == "validation_failed")
            #expect(Set(error.fields?.keys.map { $0 } ?? []) == ["codec", "compression_level"], "\(body)")
        }
        let (unknownData, unknown) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"codec": "lz4"}"#.utf8))
        #expect(unknown.statusCode == 422)
        #expect(
            try JSONDecoder().decode(ErrorBody.self, from: unknownData).error.fields == [
                "codec": "must be gzip or zstd"
            ])

        let (savedData, saved) = try await server.request(
            "PUT", "/api/settings/backup", body: Data(#"{"codec": "zstd", "compression_level": 19}"#.utf8))
        #expect(saved.statusCode == 200)
        let settings = try server.decode(BackupSettings.self, savedData)
        #expect(settings.codec == .zstd && settings.compressionLevel == 19)
        let (shownData, _) = try await server.request("GET", "/api/settings/backup")
        #expect(String(decoding: shownData, as: UTF8.self).contains(#""codec":"zstd""#))

        let info = try await server.backupAndWait()
        #expect(info.status == .completed && info.filename.hasSuffix(".tar.zst"))
        let (bundle, download) = try await server.request("GET", "/api/backups/\(info.id)/download")
        #expect(download.statusCode == 200)
        #expect(download.value(forHTTPHeaderField: "Content-Type") == "application/zstd")
        #expect(SHA256.hash(data: bundle).map { String(format: "%02x", $0) }.joined() == info.sha256)
        #expect(Array(bundle.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        let (_, verified) = try await server.request("POST", "/api/backups/\(info.id)/verify")
        #expect(verified.statusCode == 202 || verified.statusCode == 200)
        #expect(try await server.waitForVerification(id: info.id).ok)

        // Another server imports it, sent as application/zstd.
        let other = TemporaryDirectory("live-zstd-import")
        try SampleDatabase.create(at: other.dataDirectory.database, megabytes: 1)
        let importer = try LiveServer(dataDirectory: other.path)
        defer { _ = importer.terminate() }
        try await importer.waitUntilReady()
        let (importedData, imported) = try await importer.request(
            "POST", "/api/backups/import", body: bundle, headers: ["Content-Type": "application/zstd"])
        #expect(imported.statusCode == 201, "\(String(decoding: importedData, as: UTF8.self))")
        let importedInfo = try importer.decode(BackupInfo.self, importedData)
        #expect(importedInfo.id == info.id && importedInfo.filename.hasSuffix("-imported-\(info.id).tar.zst"))
        let (_, again) = try await importer.request("GET", "/api/backups/\(info.id)/download")
        #expect(again.value(forHTTPHeaderField: "Content-Type") == "application/zstd")

        // Named .tar.gz in a third data directory's backups/, it is adopted at start-up and still
        // served as what its bytes are.
        let third = TemporaryDirectory("live-zstd-adopt")
        try SampleDatabase.create(at: third.dataDirectory.database, megabytes: 1)
        try third.dataDirectory.prepare()
        let disguised = info.filename.replacingOccurrences(of: ".tar.zst", with: ".tar.gz")
        try bundle.write(to: third.dataDirectory.backups.appendingPathComponent(disguised))
        let adopter = try LiveServer(dataDirectory: third.path)
        defer { _ = adopter.terminate() }
        try await adopter.waitUntilReady()
        let adopted = try adopter.decode(
            BackupInfo.self, try await adopter.request("GET", "/api/backups/\(info.id)").0)
        #expect(adopted.type == .imported && adopted.status == .completed && adopted.filename == disguised)
        let (served, adoptedDownload) = try await adopter.request("GET", "/api/backups/\(info.id)/download")
        #expect(adoptedDownload.value(forHTTPHeaderField: "Content-Type") == "application/zstd")
        #expect(served == bundle)
    }
}
