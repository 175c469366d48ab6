import Crypto
import Foundation
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite(
        "Crash safety of prune with an incremental repository: kill -9 at each step and at random moments", .serialized)
    struct RepositoryPruneCrashTests {
        /// A data directory with three incremental backups made by the real CLI, the first two
        /// deleted: the first's pack is dead, the second's 30% live (every page of `filler`
        /// rewritten before the second, 70% of them before the third). Its `backups/` is kept
        /// aside to start every round from the same garbage.
        struct World {
            let directory: TemporaryDirectory
            let kept: BackupInfo
            var backups: URL { directory.dataDirectory.backups }
            var saved: URL { directory.url.appendingPathComponent("backups-saved") }

            init() throws {
                directory = try Harness.dataDirectory("prune-crash", megabytes: 4)
                let set = try Harness.cli(["settings", "set", "format=incremental"], directory)
                guard set.status == 0 else { throw Harness.Failure("settings set: \(set.stderr)") }
                let database = directory.dataDirectory.database.path
                let first = try Harness.createBackup(directory)
                try TestDB.execute(database, "UPDATE filler SET payload = randomblob(length(payload))")
                let second = try Harness.createBackup(directory)
                try TestDB.execute(
                    database,
                    "UPDATE filler SET payload = randomblob(length(payload)) WHERE id <= (SELECT max(id) * 7 / 10 FROM filler)"
                )
                kept = try Harness.createBackup(directory)
                for id in [first.id, second.id] {
                    let deleted = try Harness.cli(["delete", id, "--yes"], directory)
                    guard deleted.status == 0 else { throw Harness.Failure("delete: \(deleted.stderr)") }
                }
                try Self.copy(backups, to: saved)
            }

            /// Puts the saved `backups/` back.
            func reset() throws {
                try FileManager.default.removeItem(at: backups)
                try Self.copy(saved, to: backups)
            }

            private static func copy(_ source: URL, to destination: URL) throws {
                let result = try ChildProcess(executablePath: "/bin/cp").run(["-a", source.path, destination.path])
                guard result.status == 0 else { throw Harness.Failure("cp -a: \(result.stderr)") }
            }

            /// What must hold after the next prune: the kept backup reassembles from the packs
            /// to its manifest's SHA-256s and is `completed`, the catalog's packs are the pack
            /// files, no pack is less than half live, `.tmp/` is empty. Empty when all hold.
            func problems() throws -> [String] {
                var problems: [String] = []
                let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                defer { catalog.close() }
                let root = directory.dataDirectory.repository
                if try catalog.record(id: kept.id).status != .completed {
                    problems.append("the kept backup is not completed")
                }
                let index = try RepositoryIndex(contentsOf: root.appendingPathComponent("index/\(kept.filename)"))
                let locator = CatalogChunkLocator(catalog: catalog)
                for file in index.files {
                    var hash = SHA256()
                    for chunk in file.chunks {
                        guard let location = try locator.locate(chunk) else {
                            problems.append("chunk \(chunk) of \(file.path) has no row")
                            continue
                        }
                        let pack = root.appendingPathComponent(RepositoryLayout.pack(location.pack, encrypted: false))
                        hash.update(data: try PackReader(url: pack).chunk(location.entry))
                    }
                    let expected = index.manifest.entries.first { $0.path == file.path }?.sha256
                    if hash.finalize().hexString != expected { problems.append("\(file.path) does not reassemble") }
                }
                let gc = RepositoryGC(
                    catalog: catalog, root: root, temporary: directory.dataDirectory.temporary, level: 3, now: Date())
                let listed = Set(try catalog.repositoryPacks().map(\.name))
                let files = Set(try gc.packFiles().keys)
                if listed != files { problems.append("packs listed \(listed.count), files \(files.count)") }
                let rest = try gc.run(dryRun: true)
                if rest != RepositoryGCReport() { problems.append("garbage left: \(rest)") }
                if !directory.temporaryFiles().isEmpty { problems.append(".tmp/ holds \(directory.temporaryFiles())") }
                return problems
            }
        }

        /// The next start after a kill: a prune of its own (it takes the job lock, reconciles and
        /// collects what the killed one left).
        static func nextPrune(_ world: World, _ label: String) throws {
            let pruned = try Harness.cli(["prune", "--json"], world.directory)
            #expect(pruned.status == 0, "\(label): prune after the kill: \(pruned.stderr)")
            let problems = try world.problems()
            #expect(problems.isEmpty, "\(label): \(problems)")
        }

        @Test(
            "kill -9 of backup prune at each step of the collection: the next prune ends clean, the kept backup whole")
        func killAtEachStep() throws {
            let world = try World()
            let marker = world.directory.url.appendingPathComponent("paused")
            for step in [RepositoryGC.Step.deadRowsDeleted, .repackPlaced, .repackMoved] {
                try world.reset()
                try? FileManager.default.removeItem(at: marker)
                let point = "gc:\(step.rawValue)"
                let running = try Harness.backup.start(
                    ["prune", "--data-dir", world.directory.path],
                    environment: ["BACKUP_TEST_PAUSE_AT": point, "BACKUP_TEST_PAUSED_FILE": marker.path])
                let paused = waitUntil(timeout: 120) {
                    FileManager.default.fileExists(atPath: marker.path) || !running.process.isRunning
                }
                #expect(paused && running.process.isRunning, "\(point): the prune never paused")
                running.signal(SIGKILL)
                #expect(running.wait().signalled, "\(point)")
                try Self.nextPrune(world, point)
            }
        }

        @Test("kill -9 of backup prune at random moments: the next prune ends clean, the kept backup whole")
        func killAtRandomMoments() throws {
            let world = try World()
            // How long a whole prune takes here, so the kills spread over it (most of the time
            // a late kill found it had taken).
            let started = Date()
            #expect(try Harness.cli(["prune"], world.directory).status == 0)
            var spread = Date().timeIntervalSince(started)
            #expect(try world.problems().isEmpty)
            var generator = SeededGenerator(seed: Intensity.seed())
            let target = Intensity.count(short: 5, long: 30)
            var (kills, rounds) = (0, 0)
            while kills < target, rounds < target * 5 {
                rounds += 1
                try world.reset()
                let delay = Double(generator.next() % 1000) / 1000 * spread
                let begun = Date()
                let running = try Harness.backup.start(["prune", "--data-dir", world.directory.path])
                pause(delay)
                running.signal(SIGKILL)
                if running.wait().signalled {
                    kills += 1
                } else {
                    spread = Date().timeIntervalSince(begun) * 0.8
                }
                try Self.nextPrune(world, "round \(rounds) (kill after \(Int(delay * 1000)) ms)")
            }
            #expect(kills >= target, "\(kills) kills in \(rounds) rounds")
            Intensity.figure(
                "prune crash: \(kills) kills of backup prune with a repository survived in \(rounds) rounds")
        }
    }
}
