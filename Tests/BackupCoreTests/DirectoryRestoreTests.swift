import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Restore of directories: targets, the second pass and the swap, on real bundles")
struct DirectoryRestoreTests {
    /// A real files bundle of two directories (`uploads` with the shared test tree, `avatars`),
    /// a service on a data directory beside them, and the trees as they were at backup time.
    struct Fixture {
        let scratch = TemporaryDirectory("dir-restore")
        let roots: [URL]
        let bundle: URL
        let manifest: Manifest
        let original: [[String: DirectoryTree.Item]]
        let service: BackupService

        init() throws {
            let app = scratch.url.appendingPathComponent("srv")
            roots = [app.appendingPathComponent("uploads"), app.appendingPathComponent("avatars")]
            try DirectorySourceTests.makeTree(at: roots[0])
            try DirectoryTree.file("me.png", in: roots[1], bytes: Data([1, 2, 3]), mtime: 1_600_000_500)
            (bundle, manifest) = try DirectoryTree.bundle(
                DirectorySource.sources(for: roots.map(\.path), exclude: []), in: scratch)
            original = try roots.map(DirectoryTree.read)
            service = try BackupService(
                dataDirectory: DataDirectory(root: scratch.url.appendingPathComponent("data").path))
        }

        /// Deletes, changes and adds files, as an application would after the backup.
        func changeTrees() throws {
            try FileManager.default.removeItem(at: roots[0].appendingPathComponent("a/b/c/deep.txt"))
            try DirectoryTree.file("private.key", in: roots[0], bytes: Data("changed\n".utf8), mode: 0o644)
            try DirectoryTree.file("added.txt", in: roots[0], bytes: Data("added\n".utf8))
            try FileManager.default.removeItem(at: roots[1].appendingPathComponent("me.png"))
        }

        func targets() throws -> [(source: Manifest.Source, target: URL)] {
            try BackupService.restoreTargets(
                for: manifest, configured: DirectorySource.sources(for: roots.map(\.path), exclude: []))
        }

        /// What is beside the two directories besides them.
        func leftovers() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: roots[0].deletingLastPathComponent().path)
                .filter { !["uploads", "avatars"].contains($0) }
        }
    }

    @Test("changed, deleted and added files: extracted beside, swapped in, the tree of backup time comes back exactly")
    func restoresExactly() throws {
        let fixture = try Fixture()
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        try fixture.changeTrees()
        var swap = try fixture.service.stageDirectories(
            try fixture.targets(), of: fixture.manifest, from: fixture.bundle, keys: .none, keepOld: false
        ) { _ in }
        #expect(try fixture.roots.map(DirectoryTree.read) != fixture.original, "nothing live touched while staging")
        try swap.swap()
        try swap.commit()
        swap.removeOldTrees()
        #expect(try fixture.roots.map(DirectoryTree.read) == fixture.original)
        #expect(!FileOps.exists(fixture.roots[0].appendingPathComponent("added.txt")))
        #expect(try fixture.leftovers() == [])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
    }

    @Test("targets: the configured directory with the bundle's path, else the same name, else refused")
    func targets() throws {
        let fixture = try Fixture()
        #expect(try fixture.targets().map(\.target.path) == fixture.roots.map(\.path))

        // Moved elsewhere: found by name.
        let moved = fixture.scratch.url.appendingPathComponent("new-home/uploads")
        let byName = try BackupService.restoreTargets(
            for: fixture.manifest,
            configured: DirectorySource.sources(for: [fixture.roots[1].path, moved.path], exclude: []))
        #expect(byName.map(\.target.path) == [moved.path, fixture.roots[1].path])

        #expect(throws: BackupError.directoryNotConfigured(path: fixture.roots[0].path)) {
            _ = try BackupService.restoreTargets(
                for: fixture.manifest, configured: DirectorySource.sources(for: [fixture.roots[1].path], exclude: []))
        }
    }

    @Test("an entry that differs from the manifest in the second pass: refused, nothing left beside, nothing swapped")
    func secondPassChecks() throws {
        let fixture = try Fixture()
        try fixture.changeTrees()
        let changed = try fixture.roots.map(DirectoryTree.read)
        var manifest = fixture.manifest
        let index = try #require(manifest.entries.firstIndex { $0.path == "files/avatars/me.png" })
        manifest.entries[index].sha256 = String(repeating: "0", count: 64)
        #expect(throws: BackupError.self) {
            _ = try fixture.service.stageDirectories(
                try fixture.targets(), of: manifest, from: fixture.bundle, keys: .none, keepOld: false
            ) { _ in }
        }
        #expect(try fixture.roots.map(DirectoryTree.read) == changed)
        #expect(try fixture.leftovers() == [])
        #expect(try fixture.service.dataDirectory.readRestoreJournal() == nil)
    }
}
