import BackupCore
import Crypto
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite("Finishing a bundle under kill -9 of the real backup", .serialized)
    struct StoreCrashTests {
        /// Where a round's kill is aimed: the moments of the store's put a kill can land between.
        enum Trigger: String, CaseIterable {
            /// The sidecar is being written in `.tmp/` (the bundle is synced, nothing is in `backups/`).
            case sidecarWritten = "sidecar in .tmp/"
            /// The sidecar has reached `backups/` (the bundle's rename is next).
            case sidecarPlaced = "sidecar in backups/"
        }

        @Test("kill -9 while a bundle is finished leaves no bundle or the bundle with its complete sidecar")
        func killWhileFinishing() async throws {
            let rounds = Intensity.count(short: 8, long: 40)
            let directory = try Harness.dataDirectory("store-crash", megabytes: 4)
            var left: [String: Int] = [:]
            for round in 0..<rounds {
                let trigger = Trigger.allCases[round % Trigger.allCases.count]
                let before = Set(directory.backupFiles())
                let running = try Harness.backup.start(["create", "--data-dir", directory.path])
                // Spins rather than sleeps: the window between two steps is a few fsyncs long.
                let deadline = Date().addingTimeInterval(60)
                while running.process.isRunning, Date() < deadline {
                    let fired =
                        switch trigger {
                        case .sidecarWritten:
                            directory.temporaryFiles().contains { $0.hasSuffix(".sha256.partial") }
                        case .sidecarPlaced:
                            directory.backupFiles().contains { $0.hasSuffix(".sha256") && !before.contains($0) }
                        }
                    if fired { break }
                    sched_yield()
                }
                running.signal(SIGKILL)
                let result = running.wait()

                // Right after the kill, before any process cleans up.
                let problems = try Self.bundlesWithoutTheirSidecar(directory)
                #expect(problems.isEmpty, "round \(round) (\(trigger.rawValue)): \(problems)")
                let new = Set(directory.backupFiles()).subtracting(before)
                let state =
                    !result.signalled
                    ? "finished before the kill"
                    : new.contains(where: BundleName.isBundleFilename)
                        ? "bundle and sidecar" : new.isEmpty ? "nothing" : "a sidecar alone"
                left[state, default: 0] += 1

                let verified = try Harness.cli(["verify", "--all"], directory)
                #expect(verified.status == 0, "round \(round): \(verified.stdout) \(verified.stderr)")
                let after = try await Harness.problems(in: directory)
                #expect(after.isEmpty, "round \(round) (\(trigger.rawValue)): \(after)")
            }
            Intensity.figure("store put: \(rounds) kills while finishing a bundle left \(left)")
        }

        /// Every bundle in `backups/` whose sidecar is missing or does not hold its SHA-256 and name.
        static func bundlesWithoutTheirSidecar(_ directory: TemporaryDirectory) throws -> [String] {
            let backups = directory.dataDirectory.backups
            return try directory.backupFiles().filter(BundleName.isBundleFilename).compactMap { name in
                let bytes = try Data(contentsOf: backups.appendingPathComponent(name))
                let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
                let sidecar = try? String(contentsOf: backups.appendingPathComponent(name + ".sha256"), encoding: .utf8)
                return sidecar == "\(sha)  \(name)\n" ? nil : "\(name): sidecar \(String(describing: sidecar))"
            }
        }
    }
}
