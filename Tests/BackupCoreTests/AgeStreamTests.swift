import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("age streams: what the writer writes the reader reads back, in constant memory, at every size")
struct AgeStreamTests {
    static let identity = AgeIdentity.generate()
    static let lock = AgeLock.recipients([identity.recipient])
    static let chunk = AgeFormat.chunkSize

    /// The bytes before the payload nonce: the header the writer wrote.
    static func headerLength(_ file: [UInt8]) -> Int {
        let mac = file.indices.first { file[$0...].starts(with: Array("\n--- ".utf8)) }!
        return file[(mac + 1)...].firstIndex(of: 0x0A)! + 1
    }

    @Test(
        "sizes round-trip through odd writes and reads: empty, one byte, a chunk less one, a chunk, a chunk and one, several MiB",
        arguments: [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 5_000_003])
    func roundTrip(size: Int) throws {
        let plaintext = AgeTestData.sample(count: size, seed: UInt64(size))
        for writeSize in [1_000_003, 65_536, 4_099, 1] where size <= 300_000 || writeSize != 1 {
            let file = try AgeTestData.encrypt(plaintext, to: Self.lock, writeSize: writeSize)
            #expect(file.starts(with: AgeFormat.magic))
            // Header, 16-byte nonce, then each chunk's bytes and its 16-byte tag (one chunk at least).
            let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
            #expect(file.count == Self.headerLength(file) + 16 + size + 16 * chunks)
            for (readSize, sourceReadSize) in [(65_536, Int.max), (7_919, 4_093), (1_000_000, 100_000)] {
                let (decrypted, error) = AgeTestData.decrypt(
                    file, keys: [.identity(Self.identity)], readSize: readSize, sourceReadSize: sourceReadSize)
                #expect(error == nil)
                #expect(decrypted == plaintext)
            }
        }
    }

    @Test("a file on disk is a ByteSource: the reader opens an encrypted file through InputFile")
    func readsAFile() throws {
        let directory = TemporaryDirectory("age-file")
        let url = directory.url.appendingPathComponent("data.age")
        let plaintext = AgeTestData.sample(count: 300_000)
        try Data(try AgeTestData.encrypt(plaintext, to: Self.lock)).write(to: url)
        let reader = try AgeDecryptingReader(source: try InputFile(reading: url), keys: [.identity(Self.identity)])
        var decrypted: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 50_000)
        while true {
            let count = try buffer.withMutableBytes { (bytes) throws(BackupError) in try reader.read(into: bytes) }
            if count == 0 { break }
            decrypted += buffer[0..<count]
        }
        #expect(decrypted == plaintext)
    }

    @Test("each file has its own file key and nonce: the same plaintext encrypts differently every time")
    func freshKeys() throws {
        let plaintext = AgeTestData.sample(count: 1_000)
        let first = try AgeTestData.encrypt(plaintext, to: Self.lock)
        let second = try AgeTestData.encrypt(plaintext, to: Self.lock)
        #expect(first != second)
        #expect(first.count == second.count)
        #expect(!first.contains(subsequence: plaintext[0..<64]))
    }

    @Test("a file for two recipients opens with either identity, and with a list holding a stranger first")
    func twoRecipients() throws {
        let other = AgeIdentity.generate()
        let plaintext = AgeTestData.sample(count: 100_000)
        let file = try AgeTestData.encrypt(plaintext, to: .recipients([Self.identity.recipient, other.recipient]))
        #expect(String(decoding: file.prefix(300), as: UTF8.self).components(separatedBy: "-> X25519 ").count == 3)
        for keys: [AgeKey] in [
            [.identity(Self.identity)], [.identity(other)],
            [.passphrase("not this"), .identity(AgeIdentity.generate()), .identity(other)],
        ] {
            let (decrypted, error) = AgeTestData.decrypt(file, keys: keys)
            #expect(error == nil)
            #expect(decrypted == plaintext)
        }
    }

    @Test(
        "a passphrase file holds one scrypt stanza with the work factor asked for, and opens with the passphrase only")
    func passphrase() throws {
        let plaintext = AgeTestData.sample(count: 70_000)
        let file = try AgeTestData.encrypt(plaintext, to: .passphrase("correct horse", workFactor: 10))
        let header = String(decoding: file[0..<Self.headerLength(file)], as: UTF8.self)
        #expect(header.components(separatedBy: "\n-> ").count == 2)
        #expect(header.range(of: #"\n-> scrypt [A-Za-z0-9+/]{22} 10\n"#, options: .regularExpression) != nil)
        let opened = AgeTestData.decrypt(file, keys: [.passphrase("wrong"), .passphrase("correct horse")])
        #expect(opened.error == nil)
        #expect(opened.plaintext == plaintext)
        #expect(
            AgeTestData.reason(AgeTestData.decrypt(file, keys: [.passphrase("correct horse ")]).error)
                == "age: wrong passphrase")
        #expect(
            AgeTestData.reason(AgeTestData.decrypt(file, keys: [.identity(Self.identity)]).error)
                == "age: this bundle is encrypted with a passphrase, and no passphrase was given")
    }

    @Test("the writer refuses a lock it cannot honour: no recipient, an empty passphrase, a work factor out of range")
    func refusedLocks() {
        for (lock, field) in [
            (AgeLock.recipients([]), "recipients"), (.passphrase(""), "passphrase"),
            (.passphrase("x", workFactor: 0), "work_factor"), (.passphrase("x", workFactor: 31), "work_factor"),
        ] {
            #expect {
                _ = try AgeEncryptingWriter(lock: lock) { _ in }
            } throws: { error in
                guard case .invalidInput(let fields) = error as? BackupError else { return false }
                return fields[field] != nil
            }
        }
    }

    @Test("memory is constant by design: the writer holds at most one chunk, the reader reads one chunk ahead")
    func constantMemory() throws {
        // Writer: once a byte follows a full chunk, that chunk is out in the sink, sealed.
        var written = 0
        let writer = try AgeEncryptingWriter(lock: Self.lock) { bytes in written += bytes.count }
        let header = written
        let plaintext = AgeTestData.sample(count: 10 * Self.chunk + 1)
        for index in 0..<10 {
            try plaintext.withBytes { (bytes) throws(BackupError) in
                try writer.write(
                    UnsafeRawBufferPointer(rebasing: bytes[(index * Self.chunk)..<((index + 1) * Self.chunk)]))
            }
            // The chunk just filled is held (it may be the final one); every earlier one was sealed.
            #expect(written == header + index * AgeFormat.sealedChunkSize)
        }
        try plaintext.withBytes { (bytes) throws(BackupError) in
            try writer.write(UnsafeRawBufferPointer(rebasing: bytes[(10 * Self.chunk)...]))
        }
        #expect(written == header + 10 * AgeFormat.sealedChunkSize)
        try writer.finish()
        #expect(written == header + 10 * AgeFormat.sealedChunkSize + 1 + AgeFormat.tagSize)

        // Reader: the first plaintext byte costs the header, the nonce and one sealed chunk (plus
        // the header parser's 4 KiB of read-ahead), never the whole file.
        let file = try AgeTestData.encrypt(plaintext, to: Self.lock)
        let source = CountingSource(MemorySource(file, readSize: 1 << 20))
        let reader = try AgeDecryptingReader(source: source, keys: [.identity(Self.identity)])
        var byte: UInt8 = 0
        _ = try withUnsafeMutableBytes(of: &byte) { (buffer) throws(BackupError) in try reader.read(into: buffer) }
        #expect(byte == plaintext[0])
        #expect(source.consumed <= Self.headerLength(file) + 16 + AgeFormat.sealedChunkSize + AgeFormat.maxLineLength)
    }
}

/// A source that counts what was read from it.
final class CountingSource: ByteSource {
    private let inner: any ByteSource
    private(set) var consumed = 0

    init(_ inner: any ByteSource) { self.inner = inner }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        let count = try inner.read(into: buffer)
        consumed += count
        return count
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: ArraySlice<UInt8>) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { self[$0..<($0 + subsequence.count)] == subsequence }
    }
}
