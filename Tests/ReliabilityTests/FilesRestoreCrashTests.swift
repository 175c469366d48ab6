import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite("Crash safety of a full restore with directories: kill -9 at every step and at random moments", .serialized)
    struct FilesRestoreCrashTests {
        /// A data directory with a database and two configured directories, a full backup of
        /// them (`new`: what a restore brings back), then changed (`old`: what it replaces).
        /// Copies of both trees are kept to reset the directories between rounds.
        struct World {
            let directory: TemporaryDirectory
            let app: TemporaryDirectory
            let base: BackupInfo
            let targets: [URL]
            let newTrees: [TreeFingerprint]
            let oldTrees: [TreeFingerprint]
            let newRows: String
            let oldRows: String
            var database: String { directory.dataDirectory.database.path }

            static let change =
                "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1); DELETE FROM account WHERE id > 50"

            init() throws {
                let directory = try Harness.dataDirectory("files-crash", megabytes: 4)
                let app = TemporaryDirectory("files-crash-app")
                let targets = ["uploads", "media"].map { app.url.appendingPathComponent("srv/\($0)") }
                self.directory = directory
                self.app = app
                self.targets = targets
                try SampleTree.create(at: targets[0])
                try SampleTree.create(at: targets[1])
                // Enough files that the kills land inside the extraction and the swap too.
                for index in 0..<300 {
                    let file = targets[1].appendingPathComponent("bulk/\(index / 50)/file-\(index).bin")
                    try FileManager.default.createDirectory(
                        at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(repeating: UInt8(index % 251), count: 2048 + index).write(to: file)
                }
                let set = try Harness.cli(
                    ["settings", "set", "directories=\(targets.map(\.path).joined(separator: ","))"], directory)
                guard set.status == 0 else { throw Harness.Failure("settings set: \(set.stderr)") }
                let created = try Harness.cli(["create", "--scope", "full", "--json"], directory)
                guard created.status == 0 else { throw Harness.Failure("create: \(created.stderr)") }
                base = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
                guard try Harness.cli(["pin", base.id], directory).status == 0 else { throw Harness.Failure("pin") }
                newTrees = try targets.map(TreeFingerprint.init)
                newRows = try TestDB.fingerprint(directory.dataDirectory.database.path)
                for target in targets { try SampleTree.change(at: target) }
                try TestDB.execute(directory.dataDirectory.database.path, Self.change)
                oldTrees = try targets.map(TreeFingerprint.init)
                oldRows = try TestDB.fingerprint(directory.dataDirectory.database.path)
                for (index, target) in targets.enumerated() {
                    try Self.copy(target, to: app.url.appendingPathComponent("old-\(index)"))
                }
            }

            /// Puts the old trees and rows back after a round that restored.
            func reset() throws {
                for (index, target) in targets.enumerated() where try TreeFingerprint(target) != oldTrees[index] {
                    try FileManager.default.removeItem(at: target)
                    try Self.copy(app.url.appendingPathComponent("old-\(index)"), to: target)
                }
                if try TestDB.fingerprint(database) == newRows { try TestDB.execute(database, Self.change) }
                guard try TestDB.fingerprint(database) == oldRows else { throw Harness.Failure("reset: rows") }
            }

            /// Each directory as `old`, `new`, or `mixed` / `absent` (a failure either way).
            func states() throws -> [String] {
                try targets.enumerated().map { index, target in
                    guard FileManager.default.fileExists(atPath: target.path) else { return "absent" }
                    let tree = try TreeFingerprint(target)
                    return tree == oldTrees[index] ? "old" : tree == newTrees[index] ? "new" : "mixed"
                }
            }

            func rows() throws -> String {
                let rows = try TestDB.fingerprint(database)
                return rows == oldRows ? "old" : rows == newRows ? "new" : "mixed"
            }

            /// Anything beside the directories (staging trees, old trees) and the journal.
            func leftovers() throws -> [String] {
                let beside = try FileManager.default.contentsOfDirectory(
                    atPath: targets[0].deletingLastPathComponent().path
                ).filter { !["uploads", "media"].contains($0) }
                let journal = directory.url.appendingPathComponent("restore-journal.json")
                return beside.sorted() + (FileManager.default.fileExists(atPath: journal.path) ? ["journal"] : [])
            }

            private static func copy(_ source: URL, to destination: URL) throws {
                let result = try ChildProcess(executablePath: "/bin/cp").run(["-a", source.path, destination.path])
                guard result.status == 0 else { throw Harness.Failure("cp -a: \(result.stderr)") }
            }
        }

        /// The next start after a kill: a CLI job (it takes the job lock, so it recovers first).
        static func nextStart(_ world: World) throws {
            let verified = try Harness.cli(["verify", world.base.id], world.directory)
            #expect(verified.status == 0, "verify after the kill: \(verified.stderr)")
        }

        @Test(
            "kill -9 at each step of a full restore (staged, each rename, the commit): the next start leaves every directory and the database all old or all new"
        )
        func killAtEachStep() async throws {
            let world = try World()
            let marker = world.app.url.appendingPathComponent("paused")
            // `commit-prepared`: the commit record staged, the database not yet committed (undo);
            // `database-committed`: SQLite has committed the new database, the commit record is
            // not yet in force (the window of a WAL fsync); the next start must finish, not undo.
            let points = [
                "staged", "swap:1:aside", "swap:1", "swap:2:aside", "swap:2", "commit-prepared", "database-committed",
                "database-replaced",
            ]
            let committed: Set = ["database-committed", "database-replaced"]
            for point in points {
                try world.reset()
                try? FileManager.default.removeItem(at: marker)
                let running = try Harness.backup.start(
                    ["restore", world.base.id, "--yes", "--data-dir", world.directory.path],
                    environment: ["BACKUP_TEST_PAUSE_AT": point, "BACKUP_TEST_PAUSED_FILE": marker.path])
                let paused = waitUntil(timeout: 120) {
                    FileManager.default.fileExists(atPath: marker.path) || !running.process.isRunning
                }
                #expect(paused && running.process.isRunning, "\(point): the restore never paused")
                running.signal(SIGKILL)
                let result = running.wait()
                #expect(result.signalled, "\(point): \(result.stderr)")
                // Before anyone recovers: the database is one or the other (SQLite's own journal).
                #expect(try world.rows() == (committed.contains(point) ? "new" : "old"), "\(point)")

                try Self.nextStart(world)
                let expected = committed.contains(point) ? "new" : "old"
                #expect(try world.states() == [expected, expected], "\(point)")
                #expect(try world.rows() == expected, "\(point)")
                #expect(try world.leftovers() == [], "\(point)")
                let problems = try await Harness.problems(in: world.directory)
                #expect(problems.isEmpty, "\(point): \(problems)")
            }
        }

        @Test("kill -9 of the server at a rename of a full restore: its next start renames everything back")
        func serverKilledMidSwap() async throws {
            let world = try World()
            let marker = world.app.url.appendingPathComponent("paused")
            let server = try LiveServer(
                dataDirectory: world.directory.path, token: Harness.token, extraArguments: ["--restart-mode", "exit"],
                environment: ["BACKUP_TEST_PAUSE_AT": "swap:1", "BACKUP_TEST_PAUSED_FILE": marker.path])
            try await server.waitUntilReady()
            let (_, response) = try await server.request(
                "POST", "/api/backups/\(world.base.id)/restore", body: Data(#"{"safety_backup": false}"#.utf8))
            #expect(response.statusCode == 202)
            #expect(waitUntil(timeout: 120) { FileManager.default.fileExists(atPath: marker.path) })
            #expect(try world.states() == ["new", "old"], "the first directory swapped, the second not yet")
            server.process.signal(SIGKILL)
            _ = server.process.wait()

            let next = try await Harness.server(world.directory)
            #expect(try world.states() == ["old", "old"])
            #expect(try world.rows() == "old")
            #expect(try world.leftovers() == [])
            #expect(next.terminate().status == 0)
        }

        @Test(
            "kill -9 at random moments of full restores: each directory old or new, never mixed, the next start agrees")
        func killAtRandomMoments() async throws {
            let world = try World()
            let seed = Intensity.seed()
            print("files restore crash: seed \(seed) (BACKUP_TEST_SEED=\(seed) replays the choices)")
            var random = SeededGenerator(seed: seed)
            let target = Intensity.count(short: 8, long: 40)
            var spread = 1.0
            var kills = 0
            var outcomes: [String: Int] = [:]
            for round in 0..<(target * 3) where kills < target {
                try world.reset()
                let safety = Bool.random(using: &random)
                let running = try Harness.backup.start(
                    ["restore", world.base.id, "--yes", "--data-dir", world.directory.path]
                        + (safety ? [] : ["--no-safety-backup"]))
                let started = Date()
                pause(Double.random(in: 0...spread, using: &random))
                running.signal(SIGKILL)
                let result = running.wait()
                if result.signalled {
                    kills += 1
                } else {
                    // It finished first: the next kills spread over its whole run.
                    spread = max(0.05, Date().timeIntervalSince(started))
                }
                // Right after the kill, before recovery: no directory is a mix of the two trees.
                let killed = try world.states()
                #expect(!killed.contains("mixed"), "round \(round): \(killed)")

                try Self.nextStart(world)
                let states = try world.states()
                let rows = try world.rows()
                #expect(states.allSatisfy { $0 == states[0] } && states[0] != "mixed", "round \(round): \(states)")
                #expect(states[0] == rows, "round \(round): directories \(states), database \(rows)")
                #expect(try world.leftovers() == [], "round \(round)")
                outcomes["\(states[0]) after \(result.signalled ? "a kill" : "the end")", default: 0] += 1
            }
            #expect(kills >= target)
            let problems = try await Harness.problems(in: world.directory)
            #expect(problems.isEmpty, "\(problems)")
            Intensity.figure("files restore crash: \(kills) kills of full restores survived (\(outcomes))")
        }
    }
}
