import Foundation
import Testing

@testable import BackupCore

@Suite("age corruption: every change to a file, and every wrong key, fails with a reason that names it")
struct AgeCorruptionTests {
    static let identity = AgeIdentity.generate()
    static let second = AgeIdentity.generate()
    static let sealed = AgeFormat.sealedChunkSize
    /// Three chunks, the last one short.
    static let plaintext = AgeTestData.sample(count: 2 * AgeFormat.chunkSize + 1_000)
    static let file = try! AgeTestData.encrypt(plaintext, to: .recipients([identity.recipient, second.recipient]))
    /// Where the payload's chunks start (after the header and the 16-byte nonce).
    static let payload = AgeStreamTests.headerLength(file) + 16

    /// The reason opening `file` with the first identity fails, and the plaintext released before.
    static func open(_ file: [UInt8], keys: [AgeKey] = [.identity(identity)]) -> (reason: String?, released: Int) {
        let (plaintext, error) = AgeTestData.decrypt(file, keys: keys, readSize: 10_000)
        #expect(plaintext == Array(Self.plaintext.prefix(plaintext.count)))
        return (AgeTestData.reason(error), plaintext.count)
    }

    static func replacing(_ file: [UInt8], at offset: Int, with byte: UInt8) -> [UInt8] {
        var copy = file
        copy[offset] = byte
        return copy
    }

    static func flipped(_ file: [UInt8], at offset: Int) -> [UInt8] {
        replacing(file, at: offset, with: file[offset] ^ 0x01)
    }

    @Test("the untouched file opens with either identity")
    func untouched() {
        #expect(Self.open(Self.file).reason == nil)
        #expect(Self.open(Self.file, keys: [.identity(Self.second)]).released == Self.plaintext.count)
    }

    @Test("a changed header: the MAC, another recipient's stanza, the version line")
    func changedHeader() throws {
        let header = String(decoding: Self.file[0..<(Self.payload - 16)], as: UTF8.self)
        let macStart = header.utf8.count - 44  // "--- ", then 43 characters and LF
        #expect(Array(Self.file[(macStart - 4)..<macStart]) == Array("--- ".utf8))
        // One MAC character turned into another valid base64 character.
        let mac = Self.replacing(Self.file, at: macStart + 5, with: Self.file[macStart + 5] == 0x41 ? 0x42 : 0x41)
        #expect(Self.open(mac).reason == "age: the header was changed (its MAC does not match)")
        // The second stanza's share changed: the first identity opens its stanza, the MAC tells.
        let secondStanza = header.utf8.count - (header.components(separatedBy: "-> X25519 ").last!.utf8.count)
        let stanza = Self.replacing(
            Self.file, at: secondStanza + 3, with: Self.file[secondStanza + 3] == 0x41 ? 0x42 : 0x41)
        #expect(Self.open(stanza).reason == "age: the header was changed (its MAC does not match)")
        // Both stanzas still name X25519 but nothing else about the file is age any more.
        #expect(
            Self.open(Self.flipped(Self.file, at: 3)).reason?.hasPrefix("age: malformed header: not an age file")
                == true)
        #expect(
            Self.open(Self.flipped(Self.file, at: 20)).reason?.hasPrefix("age: malformed header: unsupported") == true)
    }

    @Test("a flipped byte in the nonce or in any chunk fails that chunk; what came before it was released")
    func flippedPayloadByte() {
        #expect(
            Self.open(Self.flipped(Self.file, at: Self.payload - 3)).reason?.hasPrefix("age: chunk 1 failed") == true)
        for (offset, chunk) in [
            (Self.payload + 5, 1), (Self.payload + Self.sealed - 1, 1), (Self.payload + Self.sealed + 40_000, 2),
            (Self.file.count - 1, 3),
        ] {
            let (reason, released) = Self.open(Self.flipped(Self.file, at: offset))
            #expect(
                reason
                    == "age: chunk \(chunk) failed authentication (the file was changed, cut short or extended, or its chunks reordered)"
            )
            #expect(released == (chunk - 1) * AgeFormat.chunkSize)
        }
    }

    @Test("after a failed chunk every later read fails the same way: nothing after it is released")
    func failureIsSticky() throws {
        let file = Self.flipped(Self.file, at: Self.payload + Self.sealed + 10)
        let reader = try AgeDecryptingReader(source: MemorySource(file), keys: [.identity(Self.identity)])
        var buffer = [UInt8](repeating: 0, count: AgeFormat.chunkSize)
        let read = { () throws(BackupError) -> Int in
            try buffer.withMutableBytes { (bytes) throws(BackupError) in try reader.read(into: bytes) }
        }
        #expect(try read() == AgeFormat.chunkSize)
        for _ in 0..<3 {
            #expect(throws: AgeFailure.chunkFailed(2)) { _ = try read() }
        }
    }

    @Test("truncation at a chunk boundary ends early; in a chunk, in the header or in the nonce, it is named too")
    func truncation() {
        for boundary in [Self.payload, Self.payload + Self.sealed, Self.payload + 2 * Self.sealed] {
            #expect(Self.open(Array(Self.file[..<boundary])).reason == "age: the file ends early (no final chunk)")
        }
        #expect(
            Self.open(Array(Self.file[..<(Self.payload + Self.sealed + 100)])).reason?.hasPrefix(
                "age: chunk 2 failed authentication") == true)
        #expect(Self.open(Array(Self.file.dropLast())).reason?.hasPrefix("age: chunk 3 failed authentication") == true)
        #expect(
            Self.open(Array(Self.file[..<(Self.payload - 5)])).reason
                == "age: the file ends early (in the payload nonce)")
        #expect(Self.open(Array(Self.file[..<50])).reason == "age: malformed header: the file ends inside the header")
        #expect(Self.open([]).reason == "age: malformed header: the file is empty")
    }

    @Test("appended bytes: after a short final chunk they fail it, after a full final chunk they are named")
    func appendedBytes() throws {
        #expect(Self.open(Self.file + [0]).reason?.hasPrefix("age: chunk 3 failed authentication") == true)
        let full = AgeTestData.sample(count: 2 * AgeFormat.chunkSize)
        let fullFile = try AgeTestData.encrypt(full, to: .recipients([Self.identity.recipient]))
        let (plaintext, error) = AgeTestData.decrypt(fullFile + Array("more".utf8), keys: [.identity(Self.identity)])
        #expect(AgeTestData.reason(error) == "age: data after the final chunk")
        #expect(plaintext == full)
    }

    @Test("two chunks swapped, or a chunk dropped, fail authentication at the first one out of place")
    func reorderedChunks() {
        let first = Array(Self.file[Self.payload..<(Self.payload + Self.sealed)])
        let second = Array(Self.file[(Self.payload + Self.sealed)..<(Self.payload + 2 * Self.sealed)])
        let head = Array(Self.file[..<Self.payload])
        let tail = Array(Self.file[(Self.payload + 2 * Self.sealed)...])
        #expect(Self.open(head + second + first + tail).reason?.hasPrefix("age: chunk 1 failed authentication") == true)
        let (reason, released) = Self.open(head + first + tail)
        #expect(reason?.hasPrefix("age: chunk 2 failed authentication") == true)
        #expect(released == AgeFormat.chunkSize)
    }

    @Test("a header of endless stanzas fails at 1 MiB instead of filling memory")
    func endlessHeader() {
        let stanza = Array("-> grease\n\n".utf8)
        var file = AgeFormat.magic
        for _ in 0..<(AgeFormat.maxHeaderLength / stanza.count + 10) { file += stanza }
        #expect(Self.open(file + Array("--- ".utf8)).reason == "age: malformed header: the header is longer than 1 MiB")
    }

    @Test("a wrong identity, no key at all, or a passphrase for a recipients file: no key opens it")
    func wrongKeys() {
        let expected = "age: no key opens this bundle (it is encrypted to other recipients)"
        #expect(Self.open(Self.file, keys: [.identity(AgeIdentity.generate())]).reason == expected)
        #expect(Self.open(Self.file, keys: []).reason == expected)
        #expect(Self.open(Self.file, keys: [.passphrase("secret")]).reason == expected)
    }
}
