import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("age keys: Bech32 identities and recipients, as age-keygen writes and reads them")
struct AgeKeyTests {
    /// The X25519 example of the age spec (c2sp.org/age): an identity and its recipient.
    static let specIdentity = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
    static let specRecipient = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

    /// The reason `body` gives for `field`, or nil when it did not fail with invalid input.
    static func reason(_ field: String, _ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            guard case .invalidInput(let fields) = error as? BackupError else { return nil }
            return fields[field]
        }
    }

    @Test("the spec's identity parses and gives the spec's recipient; both print back as given")
    func specExample() throws {
        let identity = try AgeIdentity(parsing: Self.specIdentity)
        #expect(identity.recipient.description == Self.specRecipient)
        #expect(identity.secretText == Self.specIdentity)
        let recipient = try AgeRecipient(parsing: Self.specRecipient)
        #expect(recipient == identity.recipient)
        #expect(recipient.description == Self.specRecipient)
        #expect(try AgeRecipient(parsing: "  \(Self.specRecipient)\n") == recipient)
    }

    @Test("Bech32 checks BIP 173's valid strings and refuses its invalid ones")
    func bech32Vectors() {
        for valid in ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"] {
            #expect((try? Bech32.decode(valid).get()) != nil, "\(valid)")
        }
        #expect((try? Bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw").get().data)?.count == 20)
        for invalid in [
            "pzry9x0s0muk",  // no separator
            "1pzry9x0s0muk",  // empty human-readable part
            "x1b4n0q5v",  // b is not in the alphabet
            "li1dgmt3",  // checksum too short
            "A1G7SGD8",  // checksum over the upper-case part
            "A12uEL5L",  // mixed case
            "a12uel5m",  // last character changed
        ] {
            #expect((try? Bech32.decode(invalid).get()) == nil, "\(invalid)")
        }
        // Longer than BIP 173's 90 characters: age keys are fine, so is this.
        let long = Bech32.encode(hrp: "age", data: [UInt8](repeating: 7, count: 100))
        #expect(long.count > 90)
        #expect((try? Bech32.decode(long).get().data) == [UInt8](repeating: 7, count: 100))
    }

    @Test("a generated identity round-trips through its text and its file; each is new")
    func generateAndRoundTrip() throws {
        let identity = AgeIdentity.generate()
        #expect(identity.secretText.hasPrefix("AGE-SECRET-KEY-1"))
        #expect(identity.secretText == identity.secretText.uppercased())
        #expect(identity.recipient.description.hasPrefix("age1"))
        let parsed = try AgeIdentity(parsing: identity.secretText)
        #expect(parsed.recipient == identity.recipient)
        #expect(AgeIdentity.generate().recipient != identity.recipient)

        let created = Date(timeIntervalSince1970: 1_795_662_000)  // 2026-11-26T03:00:00Z
        let text = identity.fileText(created: created)
        #expect(
            text == "# created: 2026-11-26T03:00:00Z\n# public key: \(identity.recipient)\n\(identity.secretText)\n")
        let fromFile = try AgeIdentity.parseFile(text)
        #expect(fromFile.map(\.recipient) == [identity.recipient])
    }

    @Test("an identity never shows its secret when printed, dumped or interpolated")
    func identityHidesItsSecret() throws {
        let identity = try AgeIdentity(parsing: Self.specIdentity)
        var dumped = ""
        dump(identity, to: &dumped)
        for shown in ["\(identity)", String(describing: identity), String(reflecting: identity), dumped] {
            #expect(!shown.contains("AGE-SECRET-KEY"))
            #expect(!shown.uppercased().contains("GFPYYSJZ"))
            #expect(shown.contains(Self.specRecipient))
        }
    }

    @Test("an identity file: comments and blank lines skipped, several identities, malformed lines named")
    func identityFiles() throws {
        let second = AgeIdentity.generate()
        let text = "# a comment\n\n\(Self.specIdentity)\r\n  \n# another\n\(second.secretText)\n"
        let identities = try AgeIdentity.parseFile(text, field: "identity_file")
        #expect(identities.map(\.recipient) == [try AgeRecipient(parsing: Self.specRecipient), second.recipient])

        let broken = Self.reason("identity_file") {
            _ = try AgeIdentity.parseFile(
                "# ok\n\(Self.specIdentity)\nAGE-SECRET-KEY-1NOTAKEY\n", field: "identity_file")
        }
        #expect(broken?.hasPrefix("line 3: not an age identity") == true)
        #expect(
            Self.reason("identity_file") {
                _ = try AgeIdentity.parseFile("# only comments\n\n", field: "identity_file")
            }
                == "no identity (AGE-SECRET-KEY-1…) in the file")
    }

    @Test("malformed identities and recipients are refused per field, without repeating the text")
    func malformedKeys() {
        let secret = Self.specIdentity
        let flipped = String(secret.dropLast()) + (secret.last == "X" ? "Y" : "X")
        let cases: [(String, String)] = [
            (flipped, "checksum"),
            (secret.lowercased(), "upper case"),
            (Self.specRecipient, "AGE-SECRET-KEY-1"),
            ("AGE-SECRET-KEY-1" + secret.dropFirst(16).dropLast(8) + "QQQQQQQQ", "not an age identity"),
            (Bech32.encode(hrp: "AGE-SECRET-KEY-", data: [1, 2, 3]).uppercased(), "32 bytes"),
            ("", "not an age identity"),
        ]
        for (text, words) in cases {
            let reason = Self.reason("encryption.identity") {
                _ = try AgeIdentity(parsing: text, field: "encryption.identity")
            }
            #expect(reason?.contains(words) == true, "\(words): \(reason ?? "no error")")
            #expect(reason.map { text.isEmpty || !$0.contains(text) } == true)
        }
        let recipientCases: [(String, String)] = [
            (Self.specRecipient.uppercased(), "lower case"),
            (String(Self.specRecipient.dropLast()) + "q", "checksum"),
            (Bech32.encode(hrp: "age", data: [1, 2, 3]), "32 bytes"),
            (Bech32.encode(hrp: "agf", data: [UInt8](repeating: 1, count: 32)), "age1"),
            (secret, "age1"),
            ("age1 spaces inside", "not an age recipient"),
        ]
        for (text, words) in recipientCases {
            let reason = Self.reason("encryption.recipients[1]") {
                _ = try AgeRecipient(parsing: text, field: "encryption.recipients[1]")
            }
            #expect(reason?.contains(words) == true, "\(words): \(reason ?? "no error")")
        }
    }

    @Test("age-keygen's identity files parse, and age-keygen -y agrees with our recipient")
    func ageKeygenInterop() throws {
        let directory = TemporaryDirectory("age-keys")
        let file = directory.url.appendingPathComponent("key.txt")
        let keygen = ChildProcess(executablePath: "/usr/bin/age-keygen")
        let generated = try keygen.run(["-o", file.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        let identities = try AgeIdentity.parseFile(text)
        #expect(identities.count == 1)
        #expect(text.contains("# public key: \(identities[0].recipient)\n"))

        // Ours, read back by age-keygen: the same recipient.
        let ours = AgeIdentity.generate()
        let ourFile = directory.url.appendingPathComponent("ours.txt")
        try ours.fileText(created: Date()).write(to: ourFile, atomically: true, encoding: .utf8)
        let converted = try keygen.run(["-y", ourFile.path])
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stdout == "\(ours.recipient)\n")
    }
}
