import CZlib
import Foundation
import Testing

@testable import BackupCore

/// One C2SP CCTV age vector (`Tests/Fixtures/age/testdata/`): its expectations and its file.
struct AgeVector: CustomTestStringConvertible, Sendable {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/age/testdata")

    let name: String
    let expect: String
    let payloadHash: String?
    let identities: [String]
    let passphrases: [String]
    let file: [UInt8]

    var testDescription: String { name }

    /// Every vector, sorted by name.
    static func all() -> [AgeVector] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { try? AgeVector(name: $0) }
    }

    init(name: String) throws {
        self.name = name
        let bytes = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name)))
        let split = (0..<(bytes.count - 1)).first { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }!
        var fields: [(String, String)] = []
        for line in String(decoding: bytes[..<split], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            fields.append((String(parts[0]), String(parts[1].dropFirst())))
        }
        let values = { (key: String) in fields.filter { $0.0 == key }.map(\.1) }
        expect = values("expect")[0]
        payloadHash = values("payload").first
        identities = values("identity")
        passphrases = values("passphrase")
        let body = Array(bytes[(split + 2)...])
        file = values("compressed").first == "zlib" ? try Self.inflate(body) : body
    }

    /// The keys to try, or nil when one is of a kind we do not support (post-quantum identities).
    var keys: [AgeKey]? {
        var keys: [AgeKey] = []
        for identity in identities {
            guard let parsed = try? AgeIdentity(parsing: identity) else { return nil }
            keys.append(.identity(parsed))
        }
        return keys + passphrases.map { .passphrase($0) }
    }

    /// zlib's format (RFC 1950), as the vectors are compressed.
    static func inflate(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CocoaError(.fileReadCorruptFile)
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[0..<(chunk.count - Int(stream.avail_out))]
            } while status == Z_OK
        }
        guard status == Z_STREAM_END else { throw CocoaError(.fileReadCorruptFile) }
        return output
    }
}

@Suite("age: the C2SP CCTV test vectors, every one that uses X25519, scrypt, the header or the payload")
struct AgeVectorTests {
    static let vectors = AgeVector.all()
    static let supported = vectors.filter { $0.keys != nil }

    @Test("the vendored vectors are there, and only the post-quantum ones are skipped")
    func vendored() {
        #expect(Self.vectors.count == 110)
        let skipped = Self.vectors.filter { $0.keys == nil }.map(\.name)
        #expect(skipped.allSatisfy { $0.hasPrefix("hybrid") }, "\(skipped)")
        #expect(Self.supported.count >= 90)
    }

    @Test(
        "each vector ends as it expects: success with its payload, or a failure of the right kind",
        arguments: supported)
    func vector(_ vector: AgeVector) {
        // Small source reads make the header parser and the chunk reader meet every boundary.
        for sourceReadSize in [Int.max, 7] {
            let (plaintext, error) = AgeTestData.decrypt(
                vector.file, keys: vector.keys!, readSize: 10_007, sourceReadSize: sourceReadSize)
            let reason = AgeTestData.reason(error) ?? ""
            switch vector.expect {
            case "success":
                #expect(error == nil)
            case "no match":
                #expect(
                    ["no key opens", "wrong passphrase", "no passphrase was given"].contains { reason.contains($0) },
                    "\(reason)")
            case "HMAC failure":
                #expect(reason == "age: the header was changed (its MAC does not match)")
            case "header failure":
                #expect(
                    reason.hasPrefix("age: malformed header: ")
                        || reason.hasPrefix("age: the file ends early (in the payload nonce)"),
                    "\(reason)")
            case "payload failure":
                #expect(
                    [
                        "failed authentication", "ends early (no final chunk)", "data after the final chunk",
                        "empty final chunk",
                    ]
                    .contains { reason.contains($0) }, "\(reason)")
            default:
                Issue.record("unknown expectation \(vector.expect)")
            }
            if vector.expect == "success" || vector.expect == "payload failure" {
                // What was released (all of it, or what came before the failure) is what the vector says.
                #expect(AgeTestData.sha256(plaintext) == vector.payloadHash)
            } else {
                #expect(plaintext.isEmpty)
            }
        }
    }
}
