import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite(
        "Crash safety of incremental backups: kill -9 at each step of the writer and at random moments", .serialized)
    struct IncrementalBackupCrashTests {
        /// Where a debug build's writer stops for a kill (`BACKUP_TEST_PAUSE_AT`), in order: a
        /// pack durable in its place before its rows, its rows recorded before the index, the
        /// index in place before the record is completed.
        enum Step: String, CaseIterable {
            case packPlaced = "incremental:pack-placed"
            case packRecorded = "incremental:pack-recorded"
            case indexPlaced = "incremental:index-placed"
        }

        /// A data directory in format `incremental` (encrypted or not) and, for each backup that
        /// completed there, the content of the database it was taken from (``contents()``).
        final class World {
            let directory: TemporaryDirectory
            /// Backup id → the content of the database when it was taken.
            private(set) var taken: [String: String] = [:]
            /// The backups restored and found equal to the database they were taken from.
            private(set) var restored: Set<String> = []
            private var changes = 0
            var database: String { directory.dataDirectory.database.path }
            var catalogPath: String { directory.dataDirectory.backups.appendingPathComponent("catalog.sqlite").path }

            init(_ label: String, encrypted: Bool, megabytes: Int, settings: [String] = []) throws {
                directory =
                    try encrypted
                    ? EncryptionReliabilityTests.encryptedDirectory(label, megabytes: megabytes)
                    : Harness.dataDirectory(label, megabytes: megabytes)
                let set = try Harness.cli(["settings", "set", "format=incremental"] + settings, directory)
                guard set.status == 0 else { throw Harness.Failure("settings set: \(set.stderr)") }
            }

            /// Changes the database: a new ledger pair and, in turn, a contiguous 2% of the filler
            /// rewritten (a few new chunks) or every other filler row (nearly every chunk new).
            func change() throws {
                changes += 1
                let rows = try TestDB.int(database, "SELECT max(id) FROM filler") ?? 1
                let rewritten =
                    changes % 3 == 0
                    ? "id % 2 = \(changes % 2)"
                    : "id BETWEEN \(changes * 37 % rows) AND \(changes * 37 % rows + rows / 50)"
                try TestDB.execute(
                    database,
                    """
                    INSERT INTO ledger(pair, amount) VALUES (\(changes), \(changes)), (\(changes), -\(changes));
                    UPDATE filler SET payload = randomblob(800) || zeroblob(3200) WHERE \(rewritten)
                    """)
            }

            /// The database's content: ``TestDB/fingerprint(_:)`` (ledger, accounts, the filler's
            /// shape) and the SHA-256 of every filler payload in order, which a chunk restored
            /// from the wrong place would change.
            func contents() throws -> String {
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)
                let queue = try DatabaseQueue(path: database, configuration: configuration)
                defer { try? queue.close() }
                var hash = SHA256()
                try queue.read { db in
                    let rows = try Row.fetchCursor(db, sql: "SELECT payload FROM filler ORDER BY id")
                    while let row = try rows.next() { hash.update(data: row[0] as Data) }
                }
                return try TestDB.fingerprint(database) + "|" + hash.finalize().hexString
            }

            /// Every completed backup not seen before was taken from the database whose fingerprint
            /// is `fingerprint` (the database does not change while a backup runs).
            func noteCompleted(takenFrom fingerprint: String) throws {
                let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                defer { catalog.close() }
                for record in try catalog.records(status: .completed) where taken[record.id] == nil {
                    #expect(record.isInRepository, "backup \(record.id) is not incremental")
                    taken[record.id] = fingerprint
                }
            }

            /// The pack files in the repository, by name.
            func packFiles() throws -> Set<String> {
                let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                defer { catalog.close() }
                return Set(try gc(catalog).packFiles().keys)
            }

            /// The packs the catalog lists.
            func listedPacks() throws -> Set<String> {
                let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                defer { catalog.close() }
                return Set(try catalog.repositoryPacks().map(\.name))
            }

            /// What a garbage collection would free now (a dry run: nothing changes).
            func garbage() throws -> RepositoryGCReport {
                let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                defer { catalog.close() }
                let service = BackupService(dataDirectory: directory.dataDirectory, catalog: catalog)
                return try service.collectRepositoryGarbage(dryRun: true) ?? RepositoryGCReport()
            }

            /// Runs `backup prune`, then: the catalog's packs are the pack files, and nothing is left
            /// to collect (no pack without a live chunk, none mostly dead). Empty when all hold.
            func pruneProblems() throws -> [String] {
                let pruned = try Harness.cli(["prune"], directory)
                guard pruned.status == 0 else { return ["prune failed: \(pruned.stdout) \(pruned.stderr)"] }
                var problems: [String] = []
                let (listed, files) = (try listedPacks(), try packFiles())
                if listed != files {
                    problems.append(
                        "after prune: packs listed without a file \(listed.subtracting(files)), "
                            + "files without rows \(files.subtracting(listed))")
                }
                let rest = try garbage()
                if rest != RepositoryGCReport() { problems.append("garbage left after prune: \(rest)") }
                return problems
            }

            /// Restores each completed backup not restored yet with the real CLI (no safety backup)
            /// and compares the database with the one it was taken from. Empty when all match.
            func restoreProblems() throws -> [String] {
                let completed: [String]
                do {
                    let catalog = try Catalog(dataDirectory: directory.dataDirectory)
                    defer { catalog.close() }
                    completed = try catalog.records(status: .completed).map(\.id)
                }
                var problems: [String] = []
                for id in completed where !restored.contains(id) {
                    guard let expected = taken[id] else {
                        problems.append("backup \(id) completed but was never seen taken")
                        continue
                    }
                    let result = try Harness.cli(["restore", id, "--yes", "--no-safety-backup"], directory)
                    guard result.status == 0 else {
                        problems.append("restore \(id): \(result.stdout) \(result.stderr)")
                        continue
                    }
                    if try TestDB.strings(database, "PRAGMA integrity_check") != ["ok"] {
                        problems.append("restore \(id): integrity_check fails")
                    }
                    if try contents() != expected {
                        problems.append("restore \(id): the database differs from the one it was taken from")
                    }
                    restored.insert(id)
                }
                return problems
            }

            /// The repository's pack files, listed packs and index files now.
            func repositoryState() throws -> RepositoryState {
                RepositoryState(files: try packFiles(), listed: try listedPacks(), indexes: try indexFiles())
            }

            /// The index files in the repository's `index/`.
            func indexFiles() throws -> Set<String> {
                let folder = directory.dataDirectory.repository.appendingPathComponent(RepositoryLayout.indexFolder)
                return Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            }

            /// The status of backup `id` in the catalog (nil: no such record).
            func status(of id: String) throws -> String? {
                try TestDB.strings(catalogPath, "SELECT status FROM backup WHERE id = '\(id)'", readonly: true).first
            }

            private func gc(_ catalog: Catalog) -> RepositoryGC {
                RepositoryGC(
                    catalog: catalog, root: directory.dataDirectory.repository,
                    temporary: directory.dataDirectory.temporary, level: 3, now: Date())
            }
        }

        /// What the repository holds: pack files, the packs the catalog lists, index files.
        struct RepositoryState {
            var files: Set<String>
            var listed: Set<String>
            var indexes: Set<String>

            /// Where a kill landed, told by what the killed backup left compared with `before`
            /// (taken just before it started): its index placed, a pack recorded but no index, a
            /// pack placed without rows, or nothing yet (chunking, or nothing new to store).
            func moment(since before: RepositoryState) -> String {
                if !indexes.subtracting(before.indexes).isEmpty { return "index placed" }
                if !listed.subtracting(before.listed).isEmpty { return "pack recorded, no index" }
                if !files.subtracting(before.files).isEmpty { return "pack placed, no rows" }
                return "no pack placed"
            }
        }

        /// What must hold right after a kill, before anyone cleans up: the database is untouched
        /// and the catalog opens.
        static func untouched(_ world: World, before: String, _ label: String) throws {
            #expect(try TestDB.strings(world.database, "PRAGMA integrity_check") == ["ok"], "\(label)")
            #expect(try world.contents() == before, "\(label): the backup changed the database")
            try Catalog(dataDirectory: world.directory.dataDirectory).close()
        }

        /// The next start after a kill: a server's start (which reconciles) or the next CLI job
        /// (`verify --all`, which takes the job lock and reconciles first).
        static func nextStart(_ world: World, server: Bool, _ label: String) async throws {
            if server {
                let next = try await Harness.server(world.directory)
                #expect(next.terminate().status == 0, "\(label): the next server")
            } else {
                let verified = try Harness.cli(["verify", "--all"], world.directory)
                #expect(verified.status == 0, "\(label): verify --all: \(verified.stdout) \(verified.stderr)")
            }
        }

        @Test(
            "kill -9 of an incremental backup (CLI and server) at each step of the writer: the next start cleans up, prune leaves no garbage, every completed backup restores",
            arguments: [false, true]
        )
        func killAtEachStep(encrypted: Bool) async throws {
            let world = try World("incremental-steps", encrypted: encrypted, megabytes: 4)
            let first = try world.contents()
            _ = try Harness.createBackup(world.directory)
            try world.noteCompleted(takenFrom: first)
            for server in [false, true] {
                for step in Step.allCases {
                    let label = "\(server ? "server" : "cli") \(step.rawValue)"
                    try world.change()
                    let before = try world.contents()
                    let packsBefore = try world.packFiles()
                    let indexesBefore = try world.indexFiles()
                    let id = try await Self.kill(world, pausedAt: step.rawValue, server: server)
                    try Self.untouched(world, before: before, label)

                    // The state the kill left: what each step is there to pin.
                    let newPacks = try world.packFiles().subtracting(packsBefore)
                    let newIndexes = try world.indexFiles().subtracting(indexesBefore)
                    #expect(!newPacks.isEmpty, "\(label): no pack was placed")
                    switch step {
                    case .packPlaced:
                        #expect(try world.listedPacks().isDisjoint(with: newPacks), "\(label): rows before the pause")
                        #expect(newIndexes.isEmpty, "\(label)")
                    case .packRecorded:
                        #expect(newPacks.isSubset(of: try world.listedPacks()), "\(label): no rows")
                        #expect(newIndexes.isEmpty, "\(label)")
                    case .indexPlaced:
                        #expect(newIndexes.count == 1, "\(label): \(newIndexes)")
                    }

                    try await Self.nextStart(world, server: server, label)
                    let problems = try await Harness.problems(in: world.directory)
                    #expect(problems.isEmpty, "\(label): \(problems)")
                    try world.noteCompleted(takenFrom: before)
                    // The killed backup: completed when its index was in place, else failed.
                    let failed = try Self.lastFailed(world)
                    let killed = try #require(
                        id ?? newIndexes.first.flatMap(RepositoryLayout.backupID(ofIndex:)) ?? failed,
                        "\(label): which backup was killed")
                    let expected = step == .indexPlaced ? BackupStatus.completed : .failed
                    #expect(try world.status(of: killed) == expected.rawValue, "\(label)")

                    // The packs the killed backup wrote go with the next prune unless an index
                    // (its own, recovered) needs them.
                    #expect(try world.pruneProblems().isEmpty, "\(label)")
                    let left = try world.packFiles().intersection(newPacks)
                    #expect(step == .indexPlaced ? left == newPacks : left.isEmpty, "\(label): \(left) left")
                    #expect(try world.restoreProblems().isEmpty, "\(label)")
                }
            }
            // A backup after all this completes and restores too.
            let last = try world.contents()
            _ = try Harness.createBackup(world.directory)
            try world.noteCompleted(takenFrom: last)
            #expect(try world.restoreProblems().isEmpty)
            #expect(world.restored.count == world.taken.count, "every backup that completed was restored")
        }

        @Test(
            "kill -9 of the first encrypted incremental backup between the repository's key and its config: the next backup completes and restores"
        )
        func killBetweenKeyAndConfig() async throws {
            let world = try World("incremental-key", encrypted: true, megabytes: 2)
            let before = try world.contents()
            _ = try await Self.kill(world, pausedAt: "incremental:key-placed", server: false)
            try Self.untouched(world, before: before, "key placed")
            let root = world.directory.dataDirectory.repository
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(RepositoryLayout.keyFile).path))
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(RepositoryLayout.config).path))

            let next = try Harness.cli(["create"], world.directory)
            #expect(next.status == 0, "the next backup: \(next.stdout) \(next.stderr)")
            let problems = try await Harness.problems(in: world.directory)
            #expect(problems.isEmpty, "\(problems)")
            try world.noteCompleted(takenFrom: before)
            #expect(try world.pruneProblems().isEmpty)
            #expect(try world.restoreProblems().isEmpty)
            #expect(world.restored.count == 1)
        }

        @Test(
            "a backup killed after its index was placed, with off-site copies on: the next start completes it and queues its upload"
        )
        func recoveredBackupQueuedForUpload() async throws {
            let moto = try await MotoServer()
            defer { moto.stop() }
            let world = try World("incremental-offsite", encrypted: false, megabytes: 2)
            let configured = try moto.configure(world.directory, with: Harness.backup)
            #expect(configured.status == 0, "\(configured.stderr)")
            _ = try await Self.kill(
                world, pausedAt: Step.indexPlaced.rawValue, server: false, environment: MotoServer.noEnvironment)
            let id = try #require(try world.indexFiles().first.flatMap(RepositoryLayout.backupID(ofIndex:)))
            try await Self.nextStart(world, server: false, "index placed, off-site on")
            #expect(try world.status(of: id) == BackupStatus.completed.rawValue)
            // Pending: what the scheduler's retries (and the next server start) upload.
            let catalog = try Catalog(dataDirectory: world.directory.dataDirectory)
            defer { catalog.close() }
            #expect(try catalog.record(id: id).offsiteStatus == .pending)
            #expect(try catalog.backupsAwaitingUpload().map(\.id) == [id])

            let pushed = try Harness.backup.run(
                ["remote", "push", id, "--data-dir", world.directory.path], environment: MotoServer.noEnvironment)
            #expect(pushed.status == 0, "remote push: \(pushed.stderr)")
            #expect(try catalog.record(id: id).offsiteStatus == .uploaded)
            #expect(
                try await moto.keys(prefix: "backups/repository/index/").contains { $0.hasSuffix("\(id).json.zst") })
        }

        @Test(
            "kill -9 of incremental backups (CLI and server) at random moments: the database untouched, the repository checks clean, every completed backup restores",
            arguments: [false, true])
        func killAtRandomMoments(encrypted: Bool) async throws {
            let target = encrypted ? Intensity.count(short: 4, long: 20) : Intensity.count(short: 10, long: 50)
            let seed = Intensity.seed()
            let name = encrypted ? "encrypted incremental crash" : "incremental crash"
            print("\(name): seed \(seed) (BACKUP_TEST_SEED=\(seed) replays the choices)")
            var random = SeededGenerator(seed: seed)
            // Retention keeps four, so jobs also delete backups and collect their packs.
            let world = try World(
                encrypted ? "incremental-crash-enc" : "incremental-crash", encrypted: encrypted, megabytes: 8,
                settings: ["keep_last=4", "include_manual=true"])
            let started = Date()

            // How long a job ran when a kill came too late: the next kill spreads over most of that.
            var durations: [Bool: TimeInterval] = [:]
            var kills: [Bool: Int] = [:]
            /// Where the kills landed, as the repository tells it (``RepositoryState/moment(since:)``).
            var moments: [String: Int] = [:]
            var rounds = 0
            while kills.values.reduce(0, +) < target, rounds < target * 5 {
                rounds += 1
                let server = rounds % 2 == 0
                let label = "round \(rounds) (\(server ? "server" : "cli"), seed \(seed))"
                try world.change()
                let before = try world.contents()
                let offset = Double.random(in: 0...(durations[server] ?? 0.3), using: &random)
                let repository = try world.repositoryState()
                let begun = Date()
                let killed =
                    server
                    ? try await Self.killServerBackup(world, after: offset)
                    : try Self.killCLIBackup(world, after: offset)
                if killed {
                    kills[server, default: 0] += 1
                    moments[try world.repositoryState().moment(since: repository), default: 0] += 1
                } else {
                    durations[server] = Date().timeIntervalSince(begun) * 0.8
                }
                try Self.untouched(world, before: before, label)
                try await Self.nextStart(world, server: server, label)
                let problems = try await Harness.problems(in: world.directory)
                #expect(problems.isEmpty, "\(label): \(problems)")
                try world.noteCompleted(takenFrom: before)
                // Every other round the garbage stays for the next backup to meet (the chunks of
                // a killed backup's recorded packs are reused, a pack without rows written again).
                if rounds % 2 == 1 {
                    let problems = try world.pruneProblems()
                    #expect(problems.isEmpty, "\(label): \(problems)")
                }
                if rounds % 3 == 0 {
                    let problems = try world.restoreProblems()
                    #expect(problems.isEmpty, "\(label): \(problems)")
                }
            }
            #expect(try world.pruneProblems().isEmpty, "at the end")
            #expect(try world.restoreProblems().isEmpty, "at the end")
            let total = kills.values.reduce(0, +)
            #expect(total >= target, "\(total) kills in \(rounds) rounds")
            Intensity.figure(
                "\(name): \(total) kills survived in \(rounds) rounds (cli \(kills[false] ?? 0), server \(kills[true] ?? 0)); "
                    + "kills left \(moments.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); "
                    + "\(world.restored.count) completed backups restored exactly, "
                    + "\(Int(Date().timeIntervalSince(started))) s")
        }

        /// Starts a backup (`backup create`, or a server and `POST /api/backups`) with a debug
        /// build's pause at `point`, waits until it stops there and kills it (SIGKILL). Returns
        /// the backup's id when the server said it.
        static func kill(
            _ world: World, pausedAt point: String, server: Bool, environment extra: [String: String] = [:]
        ) async throws -> String? {
            let marker = world.directory.url.appendingPathComponent("paused")
            try? FileManager.default.removeItem(at: marker)
            let environment = extra.merging(["BACKUP_TEST_PAUSE_AT": point, "BACKUP_TEST_PAUSED_FILE": marker.path]) {
                $1
            }
            let process: ChildProcess.Running
            var id: String?
            if server {
                let live = try LiveServer(
                    dataDirectory: world.directory.path, token: Harness.token, environment: environment)
                try await live.waitUntilReady()
                let (body, _) = try await live.request("POST", "/api/backups")
                id = try live.decode(BackupInfo.self, body).id
                process = live.process
            } else {
                process = try Harness.backup.start(
                    ["create", "--data-dir", world.directory.path], environment: environment)
            }
            let paused = waitUntil(timeout: 120) {
                FileManager.default.fileExists(atPath: marker.path) || !process.process.isRunning
            }
            #expect(paused && process.process.isRunning, "\(point): the backup never paused")
            process.signal(SIGKILL)
            #expect(process.wait().signalled, "\(point)")
            return id
        }

        /// Small packs (a debug build's knob), so that a backup of a few megabytes seals many and
        /// the random kills land between them too.
        static let smallPacks = ["BACKUP_TEST_PACK_BYTES": "\(128 * 1024)"]

        /// Starts `backup create`, waits until it works (a file in `.tmp/`), lets `offset` pass
        /// and kills it. Returns whether the kill found it still running.
        static func killCLIBackup(_ world: World, after offset: TimeInterval) throws -> Bool {
            let running = try Harness.backup.start(
                ["create", "--data-dir", world.directory.path], environment: Self.smallPacks)
            _ = waitUntil(timeout: 30) { !world.directory.temporaryFiles().isEmpty || !running.process.isRunning }
            pause(offset)
            running.signal(SIGKILL)
            return running.wait().signalled
        }

        /// Starts a server and a backup through the API, waits until it works (a file in
        /// `.tmp/`), lets `offset` pass and kills the server. Returns whether the job was still
        /// under way.
        static func killServerBackup(_ world: World, after offset: TimeInterval) async throws -> Bool {
            let server = try LiveServer(
                dataDirectory: world.directory.path, token: Harness.token, environment: Self.smallPacks)
            try await server.waitUntilReady()
            let (body, _) = try await server.request("POST", "/api/backups")
            let id = try server.decode(BackupInfo.self, body).id
            _ = try waitUntil(timeout: 30) {
                let status = try world.status(of: id)
                return !world.directory.temporaryFiles().isEmpty || (status != "pending" && status != "running")
            }
            pause(offset)
            let working = !world.directory.temporaryFiles().isEmpty
            server.process.signal(SIGKILL)
            return server.process.wait().signalled && working
        }

        /// The newest failed backup's id.
        static func lastFailed(_ world: World) throws -> String? {
            try TestDB.strings(
                world.catalogPath, "SELECT id FROM backup WHERE status = 'failed' ORDER BY created_at DESC LIMIT 1",
                readonly: true
            ).first
        }
    }
}
