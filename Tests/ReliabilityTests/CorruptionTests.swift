import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Reliability {
    @Suite(
        "Corruption: damaged and hostile bundles are detected by verify and refused by restore and import", .serialized)
    struct CorruptionTests {
        /// The SHA-256 of what the real `gzip -dc` makes of `bytes`; nil when gzip refuses them.
        static func gunzippedHash(_ bytes: Data) throws -> String? {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("flip-\(UUID().uuidString).gz")
            try bytes.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try ChildProcess(executablePath: "/bin/bash").run([
                "-c", "set -o pipefail; gzip -dc \"$0\" | sha256sum", file.path,
            ])
            return result.status == 0 ? String(result.stdout.prefix(64)) : nil
        }

        /// Random bit flips and truncations of a real bundle, then every structured lie.
        static func damages(
            of original: Data, forge: BundleForge, escape: String, random: inout SeededGenerator
        ) throws -> [Damage] {
            var damages: [Damage] = []
            let payload = try gunzippedHash(original)
            for _ in 0..<Intensity.count(short: 24, long: 300) {
                let offset = Int.random(in: 0..<original.count, using: &random)
                let bit = Int.random(in: 0..<8, using: &random)
                var bytes = original
                bytes[offset] ^= UInt8(1 << bit)
                // Deflate ignores some bits (zlib's level 1 leaves many such): the real gzip says
                // the payload is intact, so a reader that accepts it is right. Not a damage.
                if try gunzippedHash(bytes) == payload { continue }
                damages.append(Damage(name: "bit \(bit) of byte \(offset) flipped", bytes: bytes))
            }
            // The gzip header and trailer, where a flip changes no compressed data.
            for offset in [0, 1, 2, 3, 4, 7, 8, 9, original.count - 8, original.count - 1] {
                var bytes = original
                bytes[offset] ^= 0x02
                damages.append(Damage(name: "bit 1 of header/trailer byte \(offset) flipped", bytes: bytes))
            }
            for _ in 0..<Intensity.count(short: 8, long: 60) {
                let length = Int.random(in: 0..<original.count, using: &random)
                damages.append(Damage(name: "truncated to \(length) bytes", bytes: original.prefix(length)))
            }
            let randomTail = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) })
            damages += [
                Damage(name: "one byte appended", bytes: original + Data([0x0a])),
                Damage(name: "4096 random bytes appended", bytes: original + randomTail),
                Damage(name: "1024 zero bytes appended", bytes: original + Data(count: 1024)),
                Damage(name: "a second copy appended", bytes: original + original),
            ]

            let database = forge.database
            func lie(_ name: String, _ edit: @escaping (inout [String: Any]) -> Void) throws -> Damage {
                Damage(
                    name: name,
                    bytes: try forge.bundle(
                        database: database, manifest: forge.manifestBytes(for: database, edit: edit)))
            }
            func source(_ manifest: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
                var source = (manifest["sources"] as! [[String: Any]])[0]
                change(&source)
                manifest["sources"] = [source]
            }
            func entries(_ manifest: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
                var entry = (manifest["entries"] as! [[String: Any]])[0]
                change(&entry)
                manifest["entries"] = [entry]
            }
            damages += [
                try lie("manifest: entry SHA-256 changed") { m in
                    entries(&m) { $0["sha256"] = String(repeating: "0", count: 64) }
                },
                try lie("manifest: entry size changed") { m in entries(&m) { $0["size"] = database.count + 512 } },
                try lie("manifest: page_count changed") { m in
                    source(&m) { $0["page_count"] = ($0["page_count"] as! Int) + 1 }
                },
                try lie("manifest: page_size changed") { m in source(&m) { $0["page_size"] = 8192 } },
                try lie("manifest: user_version changed") { m in source(&m) { $0["user_version"] = 7 } },
                try lie("manifest: entry mode changed") { m in entries(&m) { $0["mode"] = "0755" } },
                try lie("manifest: entry mtime changed") { m in entries(&m) { $0["mtime"] = 0 } },
                try lie("manifest: source kind unknown") { m in source(&m) { $0["kind"] = "tape" } },
                try lie("manifest: no sources") { $0["sources"] = [[String: Any]]() },
                try lie("manifest: format_version 1 with format 2 fields") { $0["format_version"] = 1 },
                try lie("manifest: format_version 99") { $0["format_version"] = 99 },
                try lie("manifest: id is a path") { $0["id"] = "../../app.sqlite" },
                try lie("manifest: type unknown") { $0["type"] = "weekly" },
                try lie("manifest: created_at not a date") { $0["created_at"] = "yesterday" },
                try lie("manifest: a second entry listed") { m in
                    m["entries"] = (m["entries"] as! [[String: Any]]) + [["path": "extra", "size": 1, "sha256": "00"]]
                },
                try lie("manifest: no entries") { $0["entries"] = [[String: Any]]() },
                Damage(
                    name: "manifest: not JSON",
                    bytes: try forge.bundle(database: database, manifest: Array("{not json".utf8))),
                Damage(
                    name: "manifest: its header claims 200 MiB over a few bytes",
                    bytes: try forge.bundle([
                        BundleForge.Entry(name: "database.sqlite", data: database),
                        BundleForge.Entry(
                            name: "manifest.json", data: Array("{}".utf8), claimedSize: 200 * 1024 * 1024),
                    ])),
                Damage(
                    name: "manifest: missing",
                    bytes: try forge.bundle([BundleForge.Entry(name: "database.sqlite", data: database)])),
                Damage(
                    name: "database.sqlite: missing",
                    bytes: try forge.bundle([
                        BundleForge.Entry(name: "manifest.json", data: forge.manifestBytes(for: database))
                    ])),
                Damage(
                    name: "database.sqlite: twice",
                    bytes: try forge.bundle([
                        BundleForge.Entry(name: "database.sqlite", data: database),
                        BundleForge.Entry(name: "database.sqlite", data: database),
                        BundleForge.Entry(name: "manifest.json", data: forge.manifestBytes(for: database)),
                    ])),
                Damage(
                    name: "an unlisted entry",
                    bytes: try forge.bundle([
                        BundleForge.Entry(name: "database.sqlite", data: database),
                        BundleForge.Entry(name: "notes.txt", data: Array("hello".utf8)),
                        BundleForge.Entry(name: "manifest.json", data: forge.manifestBytes(for: database)),
                    ])),
            ]

            // A database.sqlite that is not SQLite, with a manifest that tells the truth about it.
            let garbage = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &random) }
            var halfDatabase = Array(database.prefix(database.count / 2))
            halfDatabase += [UInt8](repeating: 0x5a, count: database.count - halfDatabase.count)
            for (name, content) in [
                ("random bytes", garbage), ("text", Array("just some text\n".utf8)), ("empty", []),
                ("a real header over garbage", halfDatabase),
            ] {
                damages.append(
                    Damage(
                        name: "database.sqlite is not SQLite: \(name)",
                        bytes: try forge.bundle(database: content, manifest: forge.manifestBytes(for: content))))
            }

            // Tar-slip: paths, absolute names, links, directories, the prefix field.
            let manifestEntry = BundleForge.Entry(name: "manifest.json", data: forge.manifestBytes(for: database))
            let hostile: [(String, BundleForge.Entry)] = [
                ("../", BundleForge.Entry(name: "../\(escape)", data: database)),
                ("../../", BundleForge.Entry(name: "../../\(escape)", data: database)),
                ("../../../", BundleForge.Entry(name: "../../../\(escape)", data: database)),
                ("absolute", BundleForge.Entry(name: "/tmp/\(escape)", data: database)),
                ("a directory in the name", BundleForge.Entry(name: "\(escape)/database.sqlite", data: database)),
                (
                    "the prefix field",
                    BundleForge.Entry(name: "database.sqlite", prefix: "../../\(escape)", data: database)
                ),
                ("backslashes", BundleForge.Entry(name: "..\\..\\\(escape)", data: database)),
                (
                    "a symlink named database.sqlite",
                    BundleForge.Entry(name: "database.sqlite", type: UInt8(ascii: "2"), linkName: "/etc/passwd")
                ),
                (
                    "a hard link named database.sqlite",
                    BundleForge.Entry(name: "database.sqlite", type: UInt8(ascii: "1"), linkName: "../../app.sqlite")
                ),
                ("a directory entry", BundleForge.Entry(name: "\(escape)", type: UInt8(ascii: "5"))),
                ("a FIFO", BundleForge.Entry(name: "\(escape)", type: UInt8(ascii: "6"))),
            ]
            for (name, entry) in hostile {
                damages.append(Damage(name: "tar-slip: \(name)", bytes: try forge.bundle([entry, manifestEntry])))
                damages.append(
                    Damage(
                        name: "tar-slip: \(name), after a valid database",
                        bytes: try forge.bundle([
                            BundleForge.Entry(name: "database.sqlite", data: database), entry, manifestEntry,
                        ])
                    ))
            }
            return damages
        }

        /// Where a tar-slip would have written.
        static func escapeTargets(_ directory: TemporaryDirectory, _ escape: String) -> [URL] {
            [
                directory.url.appendingPathComponent("backups/\(escape)"), directory.url.appendingPathComponent(escape),
                directory.url.deletingLastPathComponent().appendingPathComponent(escape),
                URL(fileURLWithPath: "/tmp/\(escape)"),
            ]
        }

        @Test(
            "bit flips, truncations, tails, tampered manifests, non-SQLite databases, tar-slip: all caught, nothing written"
        )
        func damagedBundles() async throws {
            let seed = Intensity.seed()
            print("corruption suite: seed \(seed)")
            var random = SeededGenerator(seed: seed)
            let directory = try Harness.dataDirectory("corruption", megabytes: 1)
            let service = try BackupService(dataDirectory: directory.dataDirectory)
            let info = try await service.createBackup()
            let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
            let original = try Data(contentsOf: bundle)
            let forge = try BundleForge(bundle: bundle)
            let escape = "escaped-\(UUID().uuidString.prefix(8))"
            let damages = try Self.damages(of: original, forge: forge, escape: escape, random: &random)
            let database = try Data(contentsOf: directory.dataDirectory.database)
            let records = try service.catalog.allRecords().map(\.id)
            let scratch = TemporaryDirectory("corruption-files")
            let excluded = Harness.changedByRefusals

            var refusals = 0
            for damage in damages {
                var tree: [String: String] = [:]
                // verify (the damaged bytes in place of a completed backup's bundle), restore from
                // the file, and import of its bytes: refused, nothing written outside .tmp/.
                refusals += try await Harness.offerEverywhere(
                    damage, service: service, id: info.id, bundle: bundle, original: original,
                    scratch: scratch.url.appendingPathComponent("damaged.tar.gz"),
                    codes: ["verification_failed", "validation_failed"]
                ) { tree = Harness.tree(directory.url, excluding: excluded) }
                #expect(Harness.tree(directory.url, excluding: excluded) == tree, "\(damage.name) wrote outside .tmp/")
                #expect(try Data(contentsOf: directory.dataDirectory.database) == database, "\(damage.name)")
                #expect(try service.catalog.allRecords().map(\.id) == records, "\(damage.name) changed the catalog")
                for target in Self.escapeTargets(directory, escape) {
                    #expect(!FileManager.default.fileExists(atPath: target.path), "\(damage.name) wrote \(target.path)")
                }
            }
            #expect(directory.temporaryFiles().isEmpty)
            #expect(try await service.verify(id: info.id).isValid)
            Intensity.figure(
                "corruption suite: \(damages.count) damaged bundles, \(refusals) refusals by verify, restore and import (in-process)"
            )
        }

        @Test(
            "the real binaries: backup restore --file exits 3 and POST /api/backups/import answers 422, database untouched"
        )
        func damagedBundlesThroughTheFaces() async throws {
            var random = SeededGenerator(seed: Intensity.seed())
            let directory = try Harness.dataDirectory("corruption-faces", megabytes: 1)
            let info = try Harness.createBackup(directory)
            let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
            let original = try Data(contentsOf: bundle)
            let forge = try BundleForge(bundle: bundle)
            let escape = "escaped-\(UUID().uuidString.prefix(8))"
            // The structured lies, and a few random flips; the in-process test covers the rest.
            let damages =
                try Self.damages(of: original, forge: forge, escape: escape, random: &random)
                .filter { !$0.name.hasPrefix("bit ") && !$0.name.hasPrefix("truncated") } + [
                    Damage(name: "truncated by half", bytes: original.prefix(original.count / 2))
                ]
            let database = try Data(contentsOf: directory.dataDirectory.database)
            let scratch = TemporaryDirectory("corruption-faces-files")
            var refusals = 0
            for damage in damages {
                let file = scratch.url.appendingPathComponent("damaged.tar.gz")
                try damage.bytes.write(to: file)
                let restore = try Harness.cli(["restore", "--file", file.path, "--yes"], directory)
                #expect(restore.status == 3, "backup restore --file accepted \(damage.name): \(restore.stderr)")
                if restore.status == 3 { refusals += 1 }
            }
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            for damage in damages {
                let (body, response) = try await server.request("POST", "/api/backups/import", body: damage.bytes)
                #expect(
                    response.statusCode == 422,
                    "import of \(damage.name): \(response.statusCode) \(String(decoding: body, as: UTF8.self))")
                if response.statusCode == 422 { refusals += 1 }
            }
            let (_, verify) = try await server.request("POST", "/api/backups/\(info.id)/verify")
            #expect(verify.statusCode == 202)
            #expect(try Data(contentsOf: directory.dataDirectory.database) == database)
            #expect(directory.backupFiles() == [info.filename, info.filename + ".sha256"])
            for target in Self.escapeTargets(directory, escape) {
                #expect(!FileManager.default.fileExists(atPath: target.path))
            }
            Intensity.figure(
                "corruption suite: \(damages.count) damaged bundles refused by the real binaries (\(refusals) refusals)"
            )
        }
    }
}
