import BackupCore
import Foundation
import TestSupport
import Testing

extension Reliability {
    @Suite("Tar-slip in the files part of a hostile bundle: refused everywhere, nothing written outside", .serialized)
    struct FilesTarSlipTests {
        /// One forged entry and how the manifest lists it (honestly: only its shape is hostile).
        struct Forged {
            var entry: BundleForge.Entry
            var type = "file"
            var target: String?
        }

        /// A bundle holding the real database and a directory source `site` (at `sitePath`) whose
        /// entries are `forged`, listed in the manifest as they are.
        static func bundle(_ forged: [Forged], forge: BundleForge, sitePath: String) throws -> Data {
            let database = forge.database
            let manifest = forge.manifestBytes(for: database) { manifest in
                manifest["sources"] =
                    (manifest["sources"] as! [[String: Any]]) + [
                        ["kind": "directory", "name": "site", "path": sitePath, "warnings": [String]()]
                    ]
                var entries = manifest["entries"] as! [[String: Any]]
                for item in forged {
                    let name = item.entry.prefix.isEmpty ? item.entry.name : item.entry.prefix + "/" + item.entry.name
                    var listed: [String: Any] = [
                        "path": name.hasSuffix("/") ? String(name.dropLast()) : name, "type": item.type,
                        "size": item.type == "file" ? item.entry.data.count : 0, "mode": "0644",
                        "mtime": BundleForge.mtime,
                    ]
                    if item.type == "file" { listed["sha256"] = BundleForge.sha256(item.entry.data) }
                    if let target = item.target { listed["target"] = target }
                    entries.append(listed)
                }
                manifest["entries"] = entries
            }
            return try forge.bundle(
                [BundleForge.Entry(name: "database.sqlite", data: database)] + forged.map(\.entry)
                    + [BundleForge.Entry(name: "manifest.json", data: manifest)])
        }

        static func directory(_ name: String) -> Forged {
            Forged(entry: BundleForge.Entry(name: name, type: UInt8(ascii: "5")), type: "directory")
        }

        static func file(_ name: String, _ text: String = "evil\n", prefix: String = "") -> Forged {
            Forged(entry: BundleForge.Entry(name: name, prefix: prefix, data: Array(text.utf8)))
        }

        static func symlink(_ name: String, to target: String) -> Forged {
            Forged(
                entry: BundleForge.Entry(name: name, type: UInt8(ascii: "2"), linkName: target), type: "symlink",
                target: target)
        }

        @Test(
            "files/x/../../, absolute names, a file through a symlink, hard links, devices, a file where a directory is: refused by verify, restore and import"
        )
        func hostileFilesParts() async throws {
            let directory = try Harness.dataDirectory("files-slip", megabytes: 1)
            let service = try BackupService(dataDirectory: directory.dataDirectory)
            let info = try await service.createBackup()
            let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
            let original = try Data(contentsOf: bundle)
            let forge = try BundleForge(bundle: bundle)
            let escape = "escaped-\(UUID().uuidString.prefix(8))"
            // The application's directory, and a folder outside it a symlink points at.
            let site = directory.url.appendingPathComponent("site")
            try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
            try Data("kept\n".utf8).write(to: site.appendingPathComponent("kept.txt"))
            let outside = directory.url.appendingPathComponent("outside")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
            // Configured, so a bundle that got past verification would reach the extraction too.
            var settings = try service.settings()
            settings.directories = [site.path]
            _ = try service.catalog.saveSettings(settings, now: Date())

            let root = Self.directory("files/site/")
            let cases: [(String, [Forged])] = [
                ("files/site/../../", [root, Self.file("files/site/../../\(escape)")]),
                ("files/site/../../../", [root, Self.file("files/site/../../../\(escape)")]),
                ("an absolute name", [root, Self.file("/tmp/\(escape)")]),
                ("an absolute name under files/", [root, Self.file("files//tmp/\(escape)")]),
                ("the prefix field", [root, Self.file("\(escape)", prefix: "files/site/../..")]),
                ("a . component", [root, Self.file("files/site/./\(escape)")]),
                (
                    "a file through a symlink to the outside",
                    [root, Self.symlink("files/site/link", to: outside.path), Self.file("files/site/link/\(escape)")]
                ),
                (
                    "a directory through a symlink",
                    [
                        root, Self.symlink("files/site/link", to: outside.path),
                        Self.directory("files/site/link/\(escape)/"),
                    ]
                ),
                (
                    "a symlink to /etc then a file through it",
                    [root, Self.symlink("files/site/etc", to: "/etc"), Self.file("files/site/etc/passwd")]
                ),
                (
                    "the root itself a symlink",
                    [Self.symlink("files/site", to: outside.path), Self.file("files/site/\(escape)")]
                ),
                (
                    "a hard link",
                    [
                        root,
                        Forged(
                            entry: BundleForge.Entry(
                                name: "files/site/hard", type: UInt8(ascii: "1"), linkName: "database.sqlite")),
                    ]
                ),
                (
                    "a hard link to /etc/passwd",
                    [
                        root,
                        Forged(
                            entry: BundleForge.Entry(
                                name: "files/site/passwd", type: UInt8(ascii: "1"), linkName: "/etc/passwd")),
                    ]
                ),
                (
                    "a character device",
                    [root, Forged(entry: BundleForge.Entry(name: "files/site/null", type: UInt8(ascii: "3")))]
                ),
                ("a FIFO", [root, Forged(entry: BundleForge.Entry(name: "files/site/fifo", type: UInt8(ascii: "6")))]),
                (
                    "a file with the path of a directory",
                    [root, Self.directory("files/site/x/"), Self.file("files/site/x")]
                ),
                (
                    "a directory with the path of a file",
                    [root, Self.file("files/site/x"), Self.directory("files/site/x/")]
                ),
                (
                    "a symlink with the path of a file",
                    [root, Self.file("files/site/x"), Self.symlink("files/site/x", to: outside.path)]
                ),
                ("a directory twice", [root, Self.directory("files/site/d/"), Self.directory("files/site/d/")]),
                ("the root twice", [root, root]),
                ("an entry of no listed directory", [root, Self.file("files/other/\(escape)")]),
                ("no root entry", [Self.file("files/site/\(escape)")]),
                ("a file at files/", [root, Self.file("files")]),
            ]
            let scratch = TemporaryDirectory("files-slip-scratch")
            let excluded = Harness.changedByRefusals
            var refusals = 0
            for (name, forged) in cases {
                let damage = Damage(
                    name: "files tar-slip: \(name)", bytes: try Self.bundle(forged, forge: forge, sitePath: site.path))
                var tree: [String: String] = [:]
                refusals += try await Harness.offerEverywhere(
                    damage, service: service, id: info.id, bundle: bundle, original: original,
                    scratch: scratch.url.appendingPathComponent("hostile.tar.gz"),
                    codes: ["verification_failed", "validation_failed"]
                ) { tree = Harness.tree(directory.url, excluding: excluded) }
                #expect(Harness.tree(directory.url, excluding: excluded) == tree, "\(name) wrote outside .tmp/")
                #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "\(name)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: site.path) == ["kept.txt"], "\(name)")
                for target in CorruptionTests.escapeTargets(directory, escape) {
                    #expect(!FileManager.default.fileExists(atPath: target.path), "\(name) wrote \(target.path)")
                }
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
            #expect(refusals == 3 * cases.count)
            #expect(directory.temporaryFiles().isEmpty)
            #expect(try await service.verify(id: info.id).isValid)
            Intensity.figure(
                "files tar-slip: \(cases.count) hostile files parts, \(refusals) refusals by verify, restore and import"
            )
        }

        @Test("an entry before its folder (or without one) is refused by verification, so by restore and import too")
        func entryBeforeItsFolder() async throws {
            let directory = try Harness.dataDirectory("files-slip-order", megabytes: 1)
            let service = try BackupService(dataDirectory: directory.dataDirectory)
            let info = try await service.createBackup()
            let forge = try BundleForge(bundle: directory.url.appendingPathComponent("backups/\(info.filename)"))
            let site = directory.url.appendingPathComponent("site")
            try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
            try Data("kept\n".utf8).write(to: site.appendingPathComponent("kept.txt"))
            var settings = try service.settings()
            settings.directories = [site.path]
            _ = try service.catalog.saveSettings(settings, now: Date())
            let database = try Data(contentsOf: directory.dataDirectory.database)

            let bytes = try Self.bundle(
                [Self.directory("files/site/"), Self.file("files/site/missing/evil")], forge: forge,
                sitePath: site.path)
            let file = directory.url.appendingPathComponent("hostile.tar.gz")
            try bytes.write(to: file)
            let refusal = #expect(throws: BackupError.self) { _ = try service.importBundle(from: file) }
            #expect(refusal?.message.contains("files/site/missing/evil comes before its folder") == true, "\(refusal)")
            #expect(throws: BackupError.self) { _ = try service.prepareRestore(.file(file)) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: site.path) == ["kept.txt"])
            let beside = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
            #expect(beside.filter { $0.hasPrefix("site") } == ["site"], "no staging tree left beside: \(beside)")
            #expect(!beside.contains("restore-journal.json"))
            #expect(try Data(contentsOf: directory.dataDirectory.database) == database)
            #expect(directory.temporaryFiles().isEmpty)
        }
    }
}
