import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Exporting an incremental backup: a classic bundle from the index and its chunks")
struct RepositoryExportTests {
    /// A full backup (a 3 MB database and the sample tree) made as a bundle, then turned into an
    /// incremental backup by hand (``RepositoryForge``).
    struct Fixture {
        let scratch = TemporaryDirectory("repo-export")
        /// The application's side: the configured directory (outside the data directory).
        let app = TemporaryDirectory("repo-export-app")
        let service: BackupService
        let id: String
        let forged: RepositoryForge.Forged

        init(megabytes: Int = 3) async throws {
            let data = scratch.dataDirectory
            try SampleDatabase.create(at: data.database, megabytes: megabytes)
            let uploads = app.url.appendingPathComponent("uploads")
            try SampleTree.create(at: uploads)
            service = try BackupService(dataDirectory: data)
            try service.saveSettings(BackupSettings(directories: [uploads.path]))
            id = try await service.createBackup(scope: .full).id
            forged = try RepositoryForge.convert(id, service: service, in: scratch)
        }

        var uploads: URL { app.url.appendingPathComponent("uploads") }

        var exporter: RepositoryExporter {
            RepositoryExporter(
                repository: service.dataDirectory.repository,
                locator: CatalogChunkLocator(catalog: service.catalog))
        }

        /// What tar extracted into `folder`, as the manifest lists it: the folders tar makes on
        /// its own (the folder itself, `files/`) have the moment of extraction as mtime.
        func contents(_ folder: URL) throws -> [String: DirectoryTree.Item] {
            let listed = Set(forged.index.manifest.entries.map(\.path) + [Manifest.entryName])
            return try DirectoryTree.read(folder).filter { listed.contains($0.key) }
        }

        /// The paths whose items differ between two extractions (empty when they are the same).
        func differences(_ one: URL, _ other: URL) throws -> [String] {
            let (a, b) = (try contents(one), try contents(other))
            return Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }.map {
                "\($0): \(a[$0].map(String.init(describing:)) ?? "none") vs \(b[$0].map(String.init(describing:)) ?? "none")"
            }
        }

        func output(_ name: String) -> URL { scratch.url.appendingPathComponent(name) }

        /// Exports with `exporter` (the catalog's by default) to `name`.
        func export(_ name: String, with exporter: RepositoryExporter? = nil) throws -> ExportedBundle {
            let exporter = exporter ?? self.exporter
            return try exporter.export(try exporter.index(of: id), to: output(name))
        }

        func verify(_ bundle: URL) throws -> VerificationReport {
            try BundleVerifier().verify(
                bundle: bundle, expectedSHA256: nil, expectedID: id, temporary: service.dataDirectory.temporary)
        }

        /// The pack holding the first chunk of `path`.
        func pack(of path: String) throws -> (name: String, url: URL, entry: PackEntry) {
            let chunk = try #require(forged.index.files.first { $0.path == path }?.chunks.first)
            let location = try #require(try CatalogChunkLocator(catalog: service.catalog).locate(chunk))
            let url = service.dataDirectory.repository.appendingPathComponent(
                RepositoryLayout.pack(location.pack, encrypted: false))
            return (location.pack, url, location.entry)
        }
    }

    @Test("the export verifies as a bundle, and tar opens it into exactly what the original bundle held")
    func exportsTheBackup() async throws {
        let fixture = try await Fixture()
        #expect(fixture.forged.packs.count > 1, "the forge spread the chunks over several packs")
        var seen: [Int64] = []
        let exporter = fixture.exporter
        let exported = try exporter.export(try exporter.index(of: fixture.id), to: fixture.output("export.tar.zst")) {
            seen.append($0)
        }
        #expect(exported.manifest == fixture.forged.index.manifest)
        #expect(exported.sha256 == SHA256.hash(data: try Data(contentsOf: exported.url)).hexString)
        #expect(exported.sizeBytes == Int64(FileOps.size(of: exported.url) ?? 0))
        #expect(seen.last == fixture.forged.index.logicalBytes && seen == seen.sorted())

        let report = try fixture.verify(exported.url)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.codec == .zstd)
        #expect(report.manifest == fixture.forged.index.manifest)

        let opened = fixture.output("opened")
        try RepositoryForge.extract(exported.url, into: opened)
        #expect(try fixture.contents(opened).count == fixture.forged.index.manifest.entries.count + 1)
        let differences = try fixture.differences(opened, fixture.forged.extracted)
        #expect(differences.isEmpty, "\(differences)")
        let database = opened.appendingPathComponent(SQLiteSource.entryName).path
        #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"])
    }

    @Test("gzip too: tar -xzf opens the export")
    func exportsGzip() async throws {
        let fixture = try await Fixture(megabytes: 1)
        var exporter = fixture.exporter
        exporter.codec = .gzip
        let exported = try fixture.export("export.tar.gz", with: exporter)
        #expect(try fixture.verify(exported.url).codec == .gzip)
        let opened = fixture.output("opened")
        try FileManager.default.createDirectory(at: opened, withIntermediateDirectories: true)
        let result = try ChildProcess(executablePath: "/usr/bin/tar").run([
            "-xzpf", exported.url.path, "-C", opened.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let differences = try fixture.differences(opened, fixture.forged.extracted)
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("a damaged chunk: refused naming the backup, the file, the pack and the chunk; nothing left behind")
    func damagedChunk() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let (name, url, entry) = try fixture.pack(of: SQLiteSource.entryName)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[Int(entry.offset + entry.length / 2)] ^= 0x10
        try Data(bytes).write(to: url)
        let error = #expect(throws: BackupError.self) { try fixture.export("damaged.tar.zst") }
        #expect(error?.code == "verification_failed")
        let message = error?.message ?? ""
        for part in [fixture.id, SQLiteSource.entryName, name, entry.sha256] {
            #expect(message.contains(part), "\(message) names \(part)")
        }
        #expect(!FileOps.exists(fixture.output("damaged.tar.zst")))
    }

    @Test("a missing pack, or a chunk no pack holds: refused naming them")
    func missingPack() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let (name, url, entry) = try fixture.pack(of: SQLiteSource.entryName)
        try FileManager.default.removeItem(at: url)
        let missing = #expect(throws: BackupError.self) { try fixture.export("missing.tar.zst") }
        #expect(missing?.message.contains("pack \(name) is missing") == true, "\(missing?.message ?? "")")
        #expect(missing?.message.contains(entry.sha256) == true)

        try fixture.service.catalog.deletePack(named: name)
        let unknown = #expect(throws: BackupError.self) { try fixture.export("unknown.tar.zst") }
        #expect(unknown?.message.contains("chunk \(entry.sha256) is in no pack") == true, "\(unknown?.message ?? "")")
        #expect(
            !FileOps.exists(fixture.output("missing.tar.zst")) && !FileOps.exists(fixture.output("unknown.tar.zst")))
    }

    @Test("an index whose file hash or chunk list disagrees with the chunks: refused naming the file")
    func indexDisagrees() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let indexURL = fixture.service.dataDirectory.repository.appendingPathComponent(
            RepositoryLayout.index(fixture.id, encrypted: false))
        let path = "files/uploads/bin/run.sh"

        var wrongHash = fixture.forged.index
        let place = try #require(wrongHash.manifest.entries.firstIndex { $0.path == path })
        wrongHash.manifest.entries[place].sha256 = String(repeating: "0", count: 64)
        try RepositoryForge.write(wrongHash, to: indexURL)
        let hashError = #expect(throws: BackupError.self) { try fixture.export("hash.tar.zst") }
        #expect(hashError?.message.contains("\(path): its SHA-256 is") == true, "\(hashError?.message ?? "")")

        var shortList = fixture.forged.index
        let database = try #require(shortList.files.firstIndex { $0.path == SQLiteSource.entryName })
        shortList.files[database].chunks.removeLast()
        try RepositoryForge.write(shortList, to: indexURL)
        let sizeError = #expect(throws: BackupError.self) { try fixture.export("short.tar.zst") }
        #expect(sizeError?.message.contains("its chunks hold") == true, "\(sizeError?.message ?? "")")

        var otherID = fixture.forged.index
        otherID.manifest.id = BackupID.make()
        try RepositoryForge.write(otherID, to: indexURL)
        let idError = #expect(throws: BackupError.self) { try fixture.export("id.tar.zst") }
        #expect(idError?.message.contains("expected \(fixture.id)") == true, "\(idError?.message ?? "")")

        try Data("not zstd".utf8).write(to: indexURL)
        #expect(throws: BackupError.self) { try fixture.export("garbage.tar.zst") }
    }

    @Test("no catalog: the packs' trailers locate every chunk of a repository copied elsewhere")
    func trailerLocator() async throws {
        let fixture = try await Fixture(megabytes: 1)
        let copy = fixture.output("copied-repository")
        try FileManager.default.copyItem(at: fixture.service.dataDirectory.repository, to: copy)
        let locator = try PackTrailerLocator(repository: copy)
        #expect(Set(locator.packs.keys) == Set(fixture.forged.packs))
        #expect(locator.unreadablePacks.isEmpty)
        let exported = try fixture.export("copy.tar.zst", with: RepositoryExporter(repository: copy, locator: locator))
        #expect(try fixture.verify(exported.url).isValid)

        // A pack whose trailer is cut is named, and its chunks are in no pack.
        let (name, _, entry) = try fixture.pack(of: SQLiteSource.entryName)
        let url = copy.appendingPathComponent(RepositoryLayout.pack(name, encrypted: false))
        let bytes = try Data(contentsOf: url)
        try bytes.dropLast(4).write(to: url)
        let damaged = try PackTrailerLocator(repository: copy)
        #expect(damaged.unreadablePacks.keys.sorted() == [name])
        #expect(try damaged.locate(entry.sha256) == nil)
        #expect(try PackTrailerLocator(repository: fixture.output("nothing-here")).locations.isEmpty)
    }
}
