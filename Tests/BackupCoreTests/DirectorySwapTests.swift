import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Directory swap and its journal: each directory old or new, never mixed")
struct DirectorySwapTests {
    /// Two live directories with their old content, and their staged new trees.
    struct Fixture {
        let scratch = TemporaryDirectory("swap")
        let dataDirectory: DataDirectory
        let targets: [URL]
        let old: [TreeFingerprint]
        let new: [TreeFingerprint]
        let id = "0123456789abcdef"

        init() throws {
            dataDirectory = DataDirectory(root: scratch.url.appendingPathComponent("data").path)
            try dataDirectory.prepare()
            let app = scratch.url.appendingPathComponent("app")
            targets = ["uploads", "avatars"].map { app.appendingPathComponent($0) }
            var old: [TreeFingerprint] = []
            var new: [TreeFingerprint] = []
            for (index, target) in targets.enumerated() {
                try Self.write(["old-\(index)": "old content", "shared/kept": "old \(index)"], at: target)
                old.append(try TreeFingerprint(target))
                let prepared = scratch.url.appendingPathComponent("app/prepared-\(index)")
                try Self.write(["new-\(index)": "new content", "shared/kept": "new \(index)"], at: prepared)
                new.append(try TreeFingerprint(prepared))
            }
            self.old = old
            self.new = new
        }

        static func write(_ files: [String: String], at root: URL) throws {
            for (path, text) in files {
                let url = root.appendingPathComponent(path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
        }

        /// Whether every directory holds its old tree (false) or its new one (true); fails on a mix.
        func states() throws -> [Bool?] {
            try targets.enumerated().map { index, target in
                let tree = try TreeFingerprint(target)
                return tree == old[index] ? false : tree == new[index] ? true : nil
            }
        }

        /// What is left beside the targets besides the targets themselves.
        func leftovers() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: targets[0].deletingLastPathComponent().path)
                .filter { !["uploads", "avatars"].contains($0) }.sorted()
        }

        /// Begins the swap, then puts the new trees where the extraction would have put them.
        func begin(keepOld: Bool = false) throws -> DirectorySwap {
            let swap = try DirectorySwap.begin(targets, backupID: id, keepOld: keepOld, in: dataDirectory)
            for (index, target) in targets.enumerated() {
                try FileOps.rename(
                    scratch.url.appendingPathComponent("app/prepared-\(index)"),
                    to: DirectorySwap.paths(of: target, id: id).staging)
            }
            return swap
        }
    }

    @Test("a swap and commit put the new trees in and remove the old ones and the journal")
    func swapAndCommit() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        #expect(try fixture.dataDirectory.readRestoreJournal()?.phase == .extracting)
        try swap.staged()
        try swap.swap()
        #expect(try fixture.states() == [true, true])
        #expect(try fixture.leftovers() == ["avatars.pre-restore-\(fixture.id)", "uploads.pre-restore-\(fixture.id)"])
        try swap.commit()
        swap.removeOldTrees()
        #expect(try fixture.states() == [true, true])
        #expect(try fixture.leftovers() == [])
        #expect(try fixture.dataDirectory.readRestoreJournal() == nil)
    }

    @Test("--keep-old keeps each old tree as <dir>.pre-restore-<id>")
    func keepOld() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin(keepOld: true)
        try swap.staged()
        try swap.swap()
        try swap.commit()
        swap.removeOldTrees()
        #expect(try fixture.states() == [true, true])
        let kept = DirectorySwap.paths(of: fixture.targets[0], id: fixture.id).old
        #expect(try TreeFingerprint(kept) == fixture.old[0])
    }

    @Test("a roll-back after the swap puts the old trees back and removes the staging trees")
    func rollBack() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        try swap.staged()
        try swap.swap()
        swap.rollBack()
        #expect(try fixture.states() == [false, false])
        #expect(try fixture.leftovers() == [])
        #expect(try fixture.dataDirectory.readRestoreJournal() == nil)
    }

    @Test("a staging or old path already taken is refused before anything is written")
    func pathInTheWay() throws {
        let fixture = try Fixture()
        let staging = DirectorySwap.paths(of: fixture.targets[1], id: fixture.id).staging
        try FileOps.rename(fixture.scratch.url.appendingPathComponent("app/prepared-1"), to: staging)
        #expect(throws: BackupError.pathInTheWay(path: staging.path)) {
            _ = try DirectorySwap.begin(
                fixture.targets, backupID: fixture.id, keepOld: false, in: fixture.dataDirectory)
        }
        #expect(try fixture.dataDirectory.readRestoreJournal() == nil)
    }

    /// A process that died at each step of a swap, simulated by doing the renames it had done.
    @Test(
        "recovery after a crash at every step of the swap: before the commit every directory is old again, after it new",
        arguments: 0...6)
    func recoveryAfterACrash(step: Int) throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        try swap.staged()
        // Steps: 0 staged; 1 first aside; 2 first in; 3 second aside; 4 second in; 5 committed; 6 committed, one old tree removed.
        var journal = try #require(try fixture.dataDirectory.readRestoreJournal())
        if step >= 1 {
            for index in journal.directories.indices { journal.directories[index].existed = true }
            journal.phase = .swapping
            try fixture.dataDirectory.writeRestoreJournal(journal)
        }
        let renames: [(URL, URL)] = fixture.targets.flatMap { target in
            let (staging, old) = DirectorySwap.paths(of: target, id: fixture.id)
            return [(target, old), (staging, target)]
        }
        for (from, to) in renames.prefix(min(step, 4)) { try FileOps.rename(from, to: to) }
        if step >= 5 {
            journal.phase = .databaseReplaced
            try fixture.dataDirectory.writeRestoreJournal(journal)
        }
        if step == 6 { try FileTree.remove(DirectorySwap.paths(of: fixture.targets[0], id: fixture.id).old) }

        let recovered = try DirectorySwap.recover(in: fixture.dataDirectory)
        #expect(recovered == (step == 0 ? .staged : step < 5 ? .swapping : .databaseReplaced))
        #expect(try fixture.states() == (step < 5 ? [false, false] : [true, true]))
        #expect(try fixture.leftovers() == [])
        #expect(try fixture.dataDirectory.readRestoreJournal() == nil)
        #expect(try DirectorySwap.recover(in: fixture.dataDirectory) == nil)
    }

    @Test("a crash during a roll-back is rolled back again by the next start")
    func crashDuringRollBack() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        try swap.staged()
        try swap.swap()
        // The roll-back got as far as moving the first new tree out of the way, then died.
        let (staging, _) = DirectorySwap.paths(of: fixture.targets[0], id: fixture.id)
        try FileOps.rename(fixture.targets[0], to: staging)
        _ = try DirectorySwap.recover(in: fixture.dataDirectory)
        #expect(try fixture.states() == [false, false])
        #expect(try fixture.leftovers() == [])
    }

    @Test("a directory that did not exist before the restore is removed again by a roll-back")
    func rollBackOfANewDirectory() throws {
        let fixture = try Fixture()
        try FileTree.remove(fixture.targets[1])
        var swap = try fixture.begin()
        try swap.staged()
        try swap.swap()
        #expect(try TreeFingerprint(fixture.targets[1]) == fixture.new[1])
        _ = try DirectorySwap.recover(in: fixture.dataDirectory)
        #expect(!FileOps.exists(fixture.targets[1]))
        #expect(try TreeFingerprint(fixture.targets[0]) == fixture.old[0])
        #expect(try fixture.leftovers() == [])
    }
}

extension DirectorySwapTests {
    @Test("the next job's start (beginJob, as every job and the server's start-up do) recovers a dead restore")
    func beginJobRecovers() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        try swap.staged()
        try swap.swap()
        #expect(try fixture.states() == [true, true])
        // The process dies here: the journal says `swapping`.
        let service = try BackupService(dataDirectory: fixture.dataDirectory)
        let (lease, report) = try service.beginJobReporting()
        lease.release()
        #expect(report.restoreRecovered == "rolled back")
        #expect(try fixture.states() == [false, false])
        #expect(try fixture.leftovers() == [])
    }
}

extension DirectorySwapTests {
    @Test(
        "a roll-back that finds the commit point in force (the database committed, a later step failed) finishes instead"
    )
    func rollBackAfterTheCommitPoint() throws {
        let fixture = try Fixture()
        var swap = try fixture.begin()
        try swap.staged()
        try swap.swap()
        try swap.prepareCommit()
        #expect(try fixture.dataDirectory.readRestoreJournal()?.phase == .swapping, "written ahead, not in force")
        DirectorySwap.placeCommit(in: fixture.dataDirectory)
        #expect(try fixture.dataDirectory.readRestoreJournal()?.phase == .databaseReplaced)
        swap.rollBack()
        #expect(try fixture.states() == [true, true])
        #expect(try fixture.leftovers() == [])
        #expect(try fixture.dataDirectory.readRestoreJournal() == nil)
    }
}
