import Crypto
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("The local bundle store: durable put, ranged reads, listing, deletion, keys")
struct LocalStoreTests {
    static let key = "backup-20260101-120000-manual-0123456789abcdef.tar.gz"

    /// A store on a fresh data directory and a partial bundle of `size` random bytes in `.tmp/`.
    static func staged(
        _ label: String, size: Int = 700_000, key: String = key
    ) throws -> (TemporaryDirectory, LocalStore, URL, [UInt8], String) {
        let directory = TemporaryDirectory(label)
        try directory.dataDirectory.prepare()
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255) }
        let partial = directory.dataDirectory.temporary.appendingPathComponent(key + ".partial")
        try Data(bytes).write(to: partial)
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return (directory, LocalStore(dataDirectory: directory.dataDirectory), partial, bytes, sha)
    }

    /// What a crash right now would leave in `backups/`, judged: every bundle there has its full
    /// size and a complete sidecar. Returns the problems and the keys the store lists.
    static func crashState(
        _ directory: TemporaryDirectory, store: LocalStore, bytes: [UInt8], sha: String, key: String = key
    ) -> (problems: [String], listed: [String]) {
        var problems: [String] = []
        let backups = directory.dataDirectory.backups
        for name in directory.backupFiles() where BundleName.isBundleFilename(name) {
            let size = FileOps.size(of: backups.appendingPathComponent(name))
            if size != Int64(bytes.count) { problems.append("\(name) has \(size ?? -1) bytes") }
            let sidecar = try? String(
                contentsOf: backups.appendingPathComponent(BundleName.sidecar(for: name)), encoding: .utf8)
            if sidecar != "\(sha)  \(key)\n" { problems.append("\(name) has sidecar \(String(describing: sidecar))") }
        }
        let listed = ((try? store.list()) ?? []).map(\.key)
        return (problems, listed)
    }

    @Test("put: a crash after any step leaves either no bundle or the whole bundle with its complete sidecar")
    func putIsAtomicAtEveryStep() throws {
        let (directory, plain, partial, bytes, sha) = try Self.staged("store-put-steps")
        let seen = Mutex<[(LocalStore.PutStep, [String], [String])]>([])
        var store = plain
        // Nothing runs between a step and a kill there: the disk as each step leaves it is what a kill leaves.
        store.observe = { step in
            let state = Self.crashState(directory, store: plain, bytes: bytes, sha: sha)
            seen.withLock { $0.append((step, state.problems, state.listed)) }
        }
        try store.put(partial: partial, sha256: sha, as: Self.key)

        let steps = seen.withLock { $0 }
        #expect(steps.map(\.0) == LocalStore.PutStep.allCases)
        for (step, problems, listed) in steps {
            #expect(problems.isEmpty, "after \(step): \(problems)")
            #expect(listed == (step == .bundleInPlace ? [Self.key] : []), "after \(step)")
        }
        #expect(directory.backupFiles() == [Self.key, Self.key + ".sha256"])
        #expect(directory.temporaryFiles().isEmpty)
        #expect(try Data(contentsOf: directory.dataDirectory.backups.appendingPathComponent(Self.key)) == Data(bytes))
        #expect(try store.checksum(of: Self.key) == sha)
        #expect(try store.list() == [StoredBundle(key: Self.key, sizeBytes: Int64(bytes.count))])
    }

    @Test("put never replaces a bundle, and takes a partial from .tmp/ only")
    func putRefusals() throws {
        let (directory, store, partial, bytes, sha) = try Self.staged("store-put-refusals")
        try store.put(partial: partial, sha256: sha, as: Self.key)
        try Data([1, 2, 3]).write(to: partial)
        #expect(throws: BackupError.self) { try store.put(partial: partial, sha256: "00", as: Self.key) }
        #expect(try store.read(Self.key, offset: 0, length: bytes.count) == bytes)
        #expect(try store.checksum(of: Self.key) == sha)

        let outside = directory.url.appendingPathComponent("elsewhere.partial")
        try Data([1, 2, 3]).write(to: outside)
        let other = "backup-20260101-120001-manual-0123456789abcdee.tar.gz"
        #expect(throws: BackupError.self) { try store.put(partial: outside, sha256: "00", as: other) }
        #expect(try store.size(of: other) == nil)
    }

    @Test("ranged reads return exactly the bytes asked for and refuse a range outside the bundle")
    func rangedReads() throws {
        let (directory, store, partial, bytes, sha) = try Self.staged("store-ranges", size: 300_001)
        defer { withExtendedLifetime(directory) {} }
        try store.put(partial: partial, sha256: sha, as: Self.key)
        let size = bytes.count
        for (offset, length) in [(0, 1), (0, size), (1, 100), (262_143, 2), (size - 1, 1), (size, 0), (12_345, 65_536)]
        {
            let read = try store.read(Self.key, offset: Int64(offset), length: length)
            #expect(read == Array(bytes[offset..<(offset + length)]), "\(offset)+\(length)")
        }
        for (offset, length) in [(0, size + 1), (size, 1), (size + 10, 0), (-1, 1), (10, -1), (size - 1, 2)] {
            #expect(throws: BackupError.self, "\(offset)+\(length)") {
                try store.read(Self.key, offset: Int64(offset), length: length)
            }
        }
        let absent = "backup-20260101-120001-manual-0123456789abcdee.tar.gz"
        #expect(throws: BackupError.self) { try store.read(absent, offset: 0, length: 0) }
    }

    @Test("list shows bundles with sizes and ignores partials, sidecars, strays, folders and .tmp/")
    func listIgnoresTheRest() throws {
        let (directory, store, partial, bytes, sha) = try Self.staged("store-list")
        try store.put(partial: partial, sha256: sha, as: Self.key)
        let backups = directory.dataDirectory.backups
        let other = "backup-20260101-120001-manual-0123456789abcdee.tar.gz"
        try Data([1]).write(to: backups.appendingPathComponent(other + ".partial"))
        try Data([1]).write(to: backups.appendingPathComponent(other + ".sha256"))
        try Data([1]).write(to: backups.appendingPathComponent("notes.txt"))
        try Data([1]).write(to: directory.dataDirectory.temporary.appendingPathComponent(other))
        try FileManager.default.createDirectory(
            at: backups.appendingPathComponent("backup-20260101-120002-manual-0123456789abcded.tar.gz"),
            withIntermediateDirectories: true)
        #expect(try store.list() == [StoredBundle(key: Self.key, sizeBytes: Int64(bytes.count))])
    }

    @Test("delete removes the bundle and its sidecar; an absent bundle is no error")
    func deleteRemovesBoth() throws {
        let (directory, store, partial, _, sha) = try Self.staged("store-delete")
        try store.put(partial: partial, sha256: sha, as: Self.key)
        #expect(directory.backupFiles().count == 2)
        try store.delete(Self.key)
        #expect(directory.backupFiles().isEmpty)
        #expect(try store.list().isEmpty)
        #expect(try store.size(of: Self.key) == nil)
        #expect(try store.checksum(of: Self.key) == nil)
        try store.delete(Self.key)
    }

    @Test("a key with / or .. is refused by every operation, and nothing outside backups/ is touched")
    func keysAreValidated() throws {
        let (directory, store, partial, _, sha) = try Self.staged("store-keys")
        // A real file next to backups/ that each bad key would reach.
        let victim = directory.dataDirectory.root.appendingPathComponent(Self.key)
        try Data([7, 7, 7]).write(to: victim)
        try Data([7]).write(to: directory.dataDirectory.root.appendingPathComponent(Self.key + ".sha256"))
        let badKeys = [
            "../\(Self.key)", "./../\(Self.key)", "sub/\(Self.key)", "/\(Self.key)",
            "backup-20260101-120000-manual-..tar.gz", "..", "", "backup-x.tar.gz/..",
        ]
        for key in badKeys {
            #expect(throws: BackupError.self, "\(key)") { try store.put(partial: partial, sha256: sha, as: key) }
            #expect(throws: BackupError.self, "\(key)") { try store.read(key, offset: 0, length: 1) }
            #expect(throws: BackupError.self, "\(key)") { try store.open(key) { (url) throws(BackupError) in url } }
            #expect(throws: BackupError.self, "\(key)") { try store.size(of: key) }
            #expect(throws: BackupError.self, "\(key)") { try store.checksum(of: key) }
            #expect(throws: BackupError.self, "\(key)") { try store.delete(key) }
        }
        #expect(try Data(contentsOf: victim) == Data([7, 7, 7]))
        #expect(FileManager.default.fileExists(atPath: victim.path + ".sha256"))
        #expect(FileManager.default.fileExists(atPath: partial.path))
        #expect(directory.backupFiles().isEmpty)
    }
}
