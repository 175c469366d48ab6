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
    @Suite("Crash safety: kill -9 of the real backup and backup-api at random moments", .serialized)
    struct CrashTests {
        /// The jobs a kill lands in, taken in turn so every kind is hit.
        enum Operation: String, CaseIterable {
            case cliBackup = "cli backup"
            case serverBackup = "server backup"
            case cliVerify = "cli verify"
            case serverVerify = "server verify"
            case cliRestore = "cli restore"
            case serverRestore = "server restore"
            case serverImport = "server import"
            case cliPrune = "cli prune"

            var restores: Bool { self == .cliRestore || self == .serverRestore }
            var usesServer: Bool { rawValue.hasPrefix("server") }
        }

        /// The change between the restored content (the pinned backup's) and the old one.
        static let change = "INSERT INTO ledger(pair, amount) VALUES (9, 1), (9, -1); DELETE FROM account WHERE id > 50"

        /// Run in each format: with `incremental` the backups (the pinned one too) go to the
        /// repository, the imported foreign bundle stays a bundle, and retention's deletions
        /// collect the repository's garbage after each job.
        @Test(
            "kill -9 during backups, verifications, restores, imports and prunes: nothing lost, the next start cleans up",
            arguments: BackupFormat.allCases
        )
        func killAtRandomMoments(format: BackupFormat) async throws {
            let target = Intensity.count(short: 10, long: 50)
            let seed = Intensity.seed()
            let suite = format == .bundle ? "crash suite" : "crash suite (\(format.rawValue))"
            print("\(suite): seed \(seed) (BACKUP_TEST_SEED=\(seed) replays the choices)")
            var random = SeededGenerator(seed: seed)

            let directory = try Harness.dataDirectory("crash", megabytes: 16)
            let database = directory.dataDirectory.database.path
            #expect(
                try Harness.cli(["settings", "set", "keep_last=2", "format=\(format.rawValue)"], directory).status == 0)
            let base = try Harness.createBackup(directory, note: "restore target")
            #expect(base.format == format)
            #expect(try Harness.cli(["pin", base.id], directory).status == 0)
            let restored = try TestDB.fingerprint(database)
            try TestDB.execute(database, Self.change)
            let old = try TestDB.fingerprint(database)
            let foreign = try await Harness.foreignBundle(megabytes: 8)

            // How long each job ran when a kill came too late: the next kill spreads over most of that.
            var durations: [Operation: TimeInterval] = [:]
            var kills: [Operation: Int] = [:]
            var contents: [String: Int] = [:]
            var rounds = 0
            while kills.values.reduce(0, +) < target, rounds < target * 5 {
                let operation = Operation.allCases[rounds % Operation.allCases.count]
                rounds += 1
                if operation.restores, try TestDB.fingerprint(database) == restored {
                    try TestDB.execute(database, Self.change)
                }
                if operation == .serverImport { _ = try Harness.cli(["delete", foreign.id, "--yes"], directory) }
                let before = try TestDB.fingerprint(database)
                let spread = durations[operation] ?? 0.3
                let offset = Double.random(in: 0...spread, using: &random)
                let variant = Bool.random(using: &random)

                let started = Date()
                let killed: Bool
                if operation.usesServer {
                    killed = try await killServer(
                        during: operation, in: directory, base: base, foreign: foreign.bytes, variant: variant
                    ) {
                        pause(offset)
                    }
                } else {
                    killed = try killCLI(during: operation, in: directory, base: base, variant: variant) {
                        pause(offset)
                    }
                }
                if killed {
                    kills[operation, default: 0] += 1
                } else {
                    durations[operation] = Date().timeIntervalSince(started) * 0.8
                }

                // Right after the kill, before anyone cleans up.
                #expect(
                    try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"], "round \(rounds): \(operation)")
                let content = try TestDB.fingerprint(database)
                if operation.restores {
                    #expect(
                        content == old || content == restored, "round \(rounds): \(operation) left a mixed database")
                    contents[content == old ? "old" : "restored", default: 0] += 1
                } else {
                    #expect(content == before, "round \(rounds): \(operation) changed the database")
                }
                _ = try Catalog(dataDirectory: directory.dataDirectory)

                // The next start: a server for server jobs, the next CLI job otherwise.
                if operation.usesServer {
                    let server = try await Harness.server(directory)
                    #expect(server.terminate().status == 0)
                } else {
                    let verified = try Harness.cli(["verify", "--all"], directory)
                    #expect(
                        verified.status == 0, "round \(rounds): verify --all: \(verified.stdout) \(verified.stderr)")
                }
                let problems = try await Harness.problems(in: directory)
                #expect(problems.isEmpty, "round \(rounds) (\(operation), seed \(seed)): \(problems)")
            }
            let total = kills.values.reduce(0, +)
            #expect(total >= target)
            let detail = Operation.allCases.map { "\($0.rawValue) \(kills[$0] ?? 0)" }.joined(separator: ", ")
            Intensity.figure(
                "\(suite): \(total) kills survived in \(rounds) rounds (\(detail)); restores left \(contents)")
        }

        /// Starts a CLI job, waits until it works (a file in `.tmp/`), lets `moment` pass and kills
        /// it. Returns whether the kill found it still running.
        func killCLI(
            during operation: Operation, in directory: TemporaryDirectory, base: BackupInfo, variant: Bool,
            moment: () -> Void
        ) throws -> Bool {
            let arguments: [String]
            switch operation {
            case .cliBackup: arguments = ["create"]
            // An incremental backup's structure check writes nothing in `.tmp/`: read every chunk.
            case .cliVerify: arguments = ["verify", base.id] + (base.format == .incremental ? ["--read-data"] : [])
            case .cliRestore: arguments = ["restore", base.id, "--yes"] + (variant ? ["--no-safety-backup"] : [])
            case .cliPrune: arguments = ["prune"]
            default: fatalError("not a CLI job")
            }
            let running = try Harness.backup.start(arguments + ["--data-dir", directory.path])
            if operation != .cliPrune {
                _ = waitUntil(timeout: 30) { !directory.temporaryFiles().isEmpty || !running.process.isRunning }
            }
            moment()
            running.signal(SIGKILL)
            return running.wait().signalled
        }

        /// Starts a server, starts a job through the API, waits until it works, lets `moment` pass
        /// and kills the server. Returns whether the job was still under way.
        func killServer(
            during operation: Operation, in directory: TemporaryDirectory, base: BackupInfo, foreign: Data,
            variant: Bool, moment: () -> Void
        ) async throws -> Bool {
            let server = try await Harness.server(directory, extraArguments: ["--restart-mode", "exit"])
            var upload: RawConnection?
            switch operation {
            case .serverBackup:
                _ = try await server.request("POST", "/api/backups")
            case .serverVerify:
                // An incremental backup's structure check writes nothing in `.tmp/`: read every chunk.
                let body = base.format == .incremental ? Data(#"{"read_data": true}"#.utf8) : nil
                _ = try await server.request("POST", "/api/backups/\(base.id)/verify", body: body)
            case .serverRestore:
                let body = variant ? #"{"safety_backup": false}"# : "{}"
                _ = try await server.request("POST", "/api/backups/\(base.id)/restore", body: Data(body.utf8))
            case .serverImport:
                // The body streams in two halves, so the kill can land while bytes still arrive.
                let connection = try RawConnection(port: server.port)
                connection.send(
                    "POST /api/backups/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token)\r\n"
                        + "Content-Type: application/gzip\r\nContent-Length: \(foreign.count)\r\nConnection: close\r\n\r\n"
                )
                connection.send(Array(foreign.prefix(foreign.count / 2)))
                upload = connection
            default:
                fatalError("not a server job")
            }
            _ = waitUntil(timeout: 30) { !directory.temporaryFiles().isEmpty || !server.process.process.isRunning }
            if let upload { upload.send(Array(foreign.suffix(from: foreign.count / 2))) }
            moment()
            let working = !directory.temporaryFiles().isEmpty
            server.process.signal(SIGKILL)
            let result = server.process.wait()
            upload?.close()
            return result.signalled && working
        }
    }
}
