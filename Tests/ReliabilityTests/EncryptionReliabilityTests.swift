import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    @Suite("Encrypted bundles: every corruption caught, kill -9 mid-backup leaves a clean catalog", .serialized)
    struct EncryptionReliabilityTests {
        /// A data directory with its key generated and encryption on.
        static func encryptedDirectory(_ label: String, megabytes: Int) throws -> TemporaryDirectory {
            let directory = try Harness.dataDirectory(label, megabytes: megabytes)
            _ = try BackupKey(dataDirectory: directory.dataDirectory).generate(now: Date())
            let set = try Harness.cli(["settings", "set", "encryption.enabled=true"], directory)
            guard set.status == 0 else { throw Harness.Failure("settings set failed: \(set.stderr)") }
            return directory
        }

        /// Where the payload starts: after the header's `--- MAC` line and the 16-byte nonce.
        static func payloadOffset(_ bytes: Data) throws -> Int {
            let mark = try #require(bytes.range(of: Data("\n--- ".utf8)))
            let end = try #require(bytes[mark.upperBound...].firstIndex(of: UInt8(ascii: "\n")))
            return end + 1 + 16
        }

        @Test(
            "bit flips in header and chunks, truncation at and between chunk boundaries, appended bytes, swapped chunks: verify, restore and import refuse, nothing changes"
        )
        func damagedEncryptedBundles() async throws {
            let seed = Intensity.seed()
            print("encrypted corruption: seed \(seed)")
            var random = SeededGenerator(seed: seed)
            let directory = try Self.encryptedDirectory("enc-corruption", megabytes: 1)
            let service = try BackupService(dataDirectory: directory.dataDirectory)
            let info = try await service.createBackup()
            #expect(info.encrypted)
            let bundle = directory.url.appendingPathComponent("backups/\(info.filename)")
            let original = try Data(contentsOf: bundle)
            let payload = try Self.payloadOffset(original)
            let chunk = 64 * 1024 + 16
            #expect(original.count - payload > 2 * chunk, "the bundle spans several chunks")

            var damages: [Damage] = []
            for _ in 0..<Intensity.count(short: 16, long: 200) {
                let offset = Int.random(in: 0..<original.count, using: &random)
                var bytes = original
                bytes[offset] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                damages.append(Damage(name: "bit flip at \(offset)", bytes: bytes))
            }
            for offset in [0, 10, payload - 20, payload - 1, payload, payload + chunk + 7, original.count - 1] {
                var bytes = original
                bytes[offset] ^= 0x80
                damages.append(Damage(name: "flip at \(offset)", bytes: bytes))
            }
            for length in [payload, payload + chunk, payload + 2 * chunk, payload + chunk / 2, original.count - 1] {
                damages.append(Damage(name: "truncated to \(length)", bytes: original.prefix(length)))
            }
            damages.append(Damage(name: "one byte appended", bytes: original + Data([0])))
            damages.append(Damage(name: "a chunk appended", bytes: original + original[payload..<(payload + chunk)]))
            var swapped = original
            swapped.replaceSubrange(
                payload..<(payload + 2 * chunk),
                with: original[(payload + chunk)..<(payload + 2 * chunk)] + original[payload..<(payload + chunk)])
            damages.append(Damage(name: "first two chunks swapped", bytes: swapped))

            let database = try Data(contentsOf: directory.dataDirectory.database)
            let records = try service.catalog.allRecords().map(\.id)
            let scratch = TemporaryDirectory("enc-corruption-files")
            for damage in damages {
                let refusals = try await Harness.offerEverywhere(
                    damage, service: service, id: info.id, bundle: bundle, original: original,
                    scratch: scratch.url.appendingPathComponent("damaged.tar.gz.age"))
                #expect(refusals == 3, "\(damage.name)")
                #expect(try Data(contentsOf: directory.dataDirectory.database) == database, "\(damage.name)")
                #expect(try service.catalog.allRecords().map(\.id) == records, "\(damage.name) changed the catalog")
            }
            #expect(directory.temporaryFiles().isEmpty)
            #expect(try await service.verify(id: info.id).isValid)
            Intensity.figure("encrypted corruption: \(damages.count) damaged encrypted bundles refused")
        }

        @Test(
            "kill -9 of an encrypted backup at random moments: no half file, a clean catalog, the next backup verifies")
        func killEncryptedBackup() async throws {
            var random = SeededGenerator(seed: Intensity.seed())
            let directory = try Self.encryptedDirectory("enc-crash", megabytes: 16)
            var spread = 0.2
            var kills = 0
            var round = 0
            let target = Intensity.count(short: 3, long: 15)
            while kills < target, round < target * 8 {
                round += 1
                let running = try Harness.backup.start(["create", "--data-dir", directory.path])
                _ = waitUntil(timeout: 30) { !directory.temporaryFiles().isEmpty || !running.process.isRunning }
                let started = Date()
                pause(Double.random(in: 0...spread, using: &random))
                running.signal(SIGKILL)
                if running.wait().signalled {
                    kills += 1
                } else {
                    spread = max(0.05, Date().timeIntervalSince(started) * 0.8)
                }
                // The next process's lock cleans up; every bundle left is whole and encrypted.
                let verified = try Harness.cli(["verify", "--all"], directory)
                #expect(verified.status == 0, "round \(round): \(verified.stdout) \(verified.stderr)")
                #expect(directory.backupFiles().allSatisfy { $0.contains(".tar.gz.age") }, "\(directory.backupFiles())")
                let problems = try await Harness.problems(in: directory)
                #expect(problems.isEmpty, "round \(round): \(problems)")
            }
            #expect(kills >= target, "\(kills) kills in \(round) rounds")
            let next = try Harness.createBackup(directory)
            #expect(next.encrypted)
            #expect(try Harness.cli(["verify", next.id], directory).status == 0)
            Intensity.figure("encrypted crash: \(kills) kills mid-backup survived")
        }
    }
}
