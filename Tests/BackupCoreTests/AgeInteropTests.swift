import Foundation
import TestSupport
import Testing

@testable import BackupCore

/// Interoperability both ways with two other age implementations: Debian's `age` (Go, X25519)
/// and `pyrage` from `.venv` (Rust, passphrases: `age -p` needs a terminal).
@Suite("age interop: Debian's age and pyrage open our files, and we open theirs")
struct AgeInteropTests {
    static var age: ChildProcess { ChildProcess(executablePath: "/usr/bin/age") }
    static let python = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path

    /// Sizes that meet the chunk boundaries: empty, a chunk exactly, several chunks and a short one.
    static let sizes = [0, 65_536, 200_003]

    static func write(_ bytes: [UInt8], to url: URL) throws { try Data(bytes).write(to: url) }
    static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    @Test("age -d -i opens what we encrypt to a recipient, to several, and for an identity file", arguments: sizes)
    func ageOpensOurs(size: Int) throws {
        let directory = TemporaryDirectory("age-interop")
        let identity = AgeIdentity.generate()
        let other = AgeIdentity.generate()
        let keyFile = directory.url.appendingPathComponent("key.txt")
        let otherFile = directory.url.appendingPathComponent("other.txt")
        try identity.fileText(created: Date()).write(to: keyFile, atomically: true, encoding: .utf8)
        try other.fileText(created: Date()).write(to: otherFile, atomically: true, encoding: .utf8)
        let plaintext = AgeTestData.sample(count: size, seed: 7)
        for lock in [AgeLock.recipients([identity.recipient]), .recipients([other.recipient, identity.recipient])] {
            let encrypted = directory.url.appendingPathComponent("file.age")
            try Self.write(try AgeTestData.encrypt(plaintext, to: lock, writeSize: 10_007), to: encrypted)
            let output = directory.url.appendingPathComponent("out")
            let result = try Self.age.run(["-d", "-i", keyFile.path, "-o", output.path, encrypted.path])
            #expect(result.status == 0, "\(result.stderr)")
            // age creates its output file at the first plaintext byte: none for an empty payload.
            let decrypted = FileManager.default.fileExists(atPath: output.path) ? try Self.read(output) : []
            #expect(decrypted == plaintext)
            try? FileManager.default.removeItem(at: output)
        }
        // A stranger's identity: age refuses it too.
        let encrypted = directory.url.appendingPathComponent("mine.age")
        try Self.write(try AgeTestData.encrypt(plaintext, to: .recipients([identity.recipient])), to: encrypted)
        let refused = try Self.age.run(["-d", "-i", otherFile.path, "-o", "/dev/null", encrypted.path])
        #expect(refused.status != 0)
    }

    @Test("we open what age -r and age -R encrypt, and refuse it with another identity", arguments: sizes)
    func weOpenAges(size: Int) throws {
        let directory = TemporaryDirectory("age-interop")
        let identity = AgeIdentity.generate()
        let second = AgeIdentity.generate()
        let plaintext = AgeTestData.sample(count: size, seed: 11)
        let input = directory.url.appendingPathComponent("in")
        try Self.write(plaintext, to: input)
        let recipients = directory.url.appendingPathComponent("recipients.txt")
        try "# two of them\n\(second.recipient)\n\(identity.recipient)\n".write(
            to: recipients, atomically: true, encoding: .utf8)
        for arguments in [["-r", "\(identity.recipient)"], ["-R", recipients.path]] {
            let encrypted = directory.url.appendingPathComponent("file.age")
            let result = try Self.age.run(["-e"] + arguments + ["-o", encrypted.path, input.path])
            #expect(result.status == 0, "\(result.stderr)")
            let file = try Self.read(encrypted)
            let (decrypted, error) = AgeTestData.decrypt(file, keys: [.identity(identity)], sourceReadSize: 5_000)
            #expect(error == nil)
            #expect(decrypted == plaintext)
            let stranger = AgeTestData.decrypt(file, keys: [.identity(AgeIdentity.generate())])
            #expect(
                AgeTestData.reason(stranger.error)
                    == "age: no key opens this bundle (it is encrypted to other recipients)")
        }
    }

    /// Runs a pyrage script with `arguments` as `sys.argv[1:]`.
    static func pyrage(_ script: String, _ arguments: [String], input: String? = nil) throws -> ChildProcess.Result {
        try ChildProcess(executablePath: python).run(["-c", "import sys, pyrage\n" + script] + arguments, input: input)
    }

    @Test("pyrage opens what we encrypt with a passphrase, and we open what pyrage encrypts with one")
    func passphraseBothWays() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "run `make venv` for pyrage")
        let directory = TemporaryDirectory("age-pyrage")
        let plaintext = AgeTestData.sample(count: 150_001, seed: 3)
        let ours = directory.url.appendingPathComponent("ours.age")
        try Self.write(
            try AgeTestData.encrypt(plaintext, to: .passphrase("tea and biscuits", workFactor: 12)), to: ours)
        let output = directory.url.appendingPathComponent("out")
        let opened = try Self.pyrage(
            """
            data = pyrage.passphrase.decrypt(open(sys.argv[1], 'rb').read(), sys.argv[2])
            open(sys.argv[3], 'wb').write(data)
            """, [ours.path, "tea and biscuits", output.path])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(try Self.read(output) == plaintext)
        let wrong = try Self.pyrage(
            "pyrage.passphrase.decrypt(open(sys.argv[1], 'rb').read(), sys.argv[2])", [ours.path, "coffee"])
        #expect(wrong.status != 0)

        // pyrage picks its own work factor (about a second of scrypt here, under our limit of 22).
        let input = directory.url.appendingPathComponent("in")
        try Self.write(plaintext, to: input)
        let theirs = directory.url.appendingPathComponent("theirs.age")
        let encrypted = try Self.pyrage(
            """
            data = pyrage.passphrase.encrypt(open(sys.argv[1], 'rb').read(), sys.argv[2])
            open(sys.argv[3], 'wb').write(data)
            """, [input.path, "tea and biscuits", theirs.path])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let file = try Self.read(theirs)
        let (decrypted, error) = AgeTestData.decrypt(file, keys: [.passphrase("tea and biscuits")])
        #expect(error == nil)
        #expect(decrypted == plaintext)
        #expect(
            AgeTestData.reason(AgeTestData.decrypt(file, keys: [.passphrase("coffee")]).error)
                == "age: wrong passphrase")
    }

    @Test("pyrage opens what we encrypt to a recipient with the identity, and we open what it encrypts to ours")
    func recipientsWithPyrage() throws {
        let identity = AgeIdentity.generate()
        let plaintext = AgeTestData.sample(count: 70_000, seed: 5)
        let directory = TemporaryDirectory("age-pyrage")
        let ours = directory.url.appendingPathComponent("ours.age")
        try Self.write(try AgeTestData.encrypt(plaintext, to: .recipients([identity.recipient])), to: ours)
        let theirs = directory.url.appendingPathComponent("theirs.age")
        let output = directory.url.appendingPathComponent("out")
        let result = try Self.pyrage(
            """
            identity = pyrage.x25519.Identity.from_str(sys.stdin.read().strip())
            open(sys.argv[2], 'wb').write(pyrage.decrypt(open(sys.argv[1], 'rb').read(), [identity]))
            recipient = pyrage.x25519.Recipient.from_str(sys.argv[3])
            open(sys.argv[4], 'wb').write(pyrage.encrypt(open(sys.argv[2], 'rb').read(), [recipient]))
            """, [ours.path, output.path, "\(identity.recipient)", theirs.path], input: identity.secretText)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.read(output) == plaintext)
        let (decrypted, error) = AgeTestData.decrypt(try Self.read(theirs), keys: [.identity(identity)])
        #expect(error == nil)
        #expect(decrypted == plaintext)
    }
}
