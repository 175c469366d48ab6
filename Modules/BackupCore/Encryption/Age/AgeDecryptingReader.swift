import Crypto
import Foundation

/// Decrypts an age file as it is read: parses and checks the header at init (a stanza one of the
/// keys opens, then the header's MAC), then yields the plaintext one authenticated chunk at a time.
///
/// No plaintext leaves before its chunk is authenticated. The end is checked as strictly as the
/// rest: a file that stops before a final chunk, has bytes after it, or an empty final chunk after
/// others fails (bytes after a full final chunk fail the read after that chunk's plaintext).
///
/// Memory is constant: one sealed chunk, read straight into the buffer ChaChaPoly opens (laid out
/// as its combined box: nonce, ciphertext, tag), and the chunk's plaintext.
final class AgeDecryptingReader: ByteSource {
    /// The largest scrypt work factor tried (2^22 iterations, 4 GiB of memory); higher ones are
    /// refused rather than computed.
    static let maxWorkFactor = 22

    private let input: AgeInput
    private let payloadKey: SymmetricKey
    /// The nonce (12 bytes), then the sealed chunk as read.
    private var sealed = Data(count: 12 + AgeFormat.sealedChunkSize)
    private var plaintext = Data()
    private var offset = 0
    /// Chunks opened so far.
    private var counter: UInt64 = 0
    private var finished = false
    /// Bytes follow the final chunk: the read after it fails.
    private var dataAfterEnd = false
    /// The first failure, thrown again by every later read (nothing after it is trusted).
    private var failure: BackupError?

    init(source: any ByteSource, keys: [AgeKey]) throws(BackupError) {
        let input = AgeInput(source: source)
        self.input = input
        let header = try AgeHeader.read(from: input)
        let fileKey = try Self.unwrap(header.stanzas, keys: keys)
        guard header.isAuthentic(fileKey: fileKey) else { throw AgeFailure.headerChanged }
        var nonce = [UInt8](repeating: 0, count: AgeFormat.nonceSize)
        guard
            try nonce.withMutableBytes({ (buffer) throws(BackupError) in try input.readFully(into: buffer) })
                == AgeFormat.nonceSize
        else { throw AgeFailure.noNonce }
        payloadKey = AgeFileKey.payloadKey(fileKey, nonce: nonce)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while offset == plaintext.count {
            if finished {
                if dataAfterEnd { throw AgeFailure.dataAfterEnd }
                return 0
            }
            if let failure { throw failure }
            do throws(BackupError) {
                try openNextChunk()
            } catch {
                failure = error
                throw error
            }
        }
        let count = min(buffer.count, plaintext.count - offset)
        plaintext.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    /// Reads the next sealed chunk and opens it. A full chunk is not final unless it opens as
    /// final (the plaintext was a multiple of 64 KiB); a shorter one must be final.
    private func openNextChunk() throws(BackupError) {
        let input = self.input
        let count = try sealed.withUnsafeMutableBytes { buffer in
            Result { () throws(BackupError) in
                try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[12...]))
            }
        }.get()
        guard count > 0 else { throw AgeFailure.endsEarly }
        if count == AgeFormat.sealedChunkSize, let opened = open(count, final: false) {
            use(opened)
            return
        }
        guard let opened = open(count, final: true) else { throw AgeFailure.chunkFailed(counter + 1) }
        guard !opened.isEmpty || counter == 0 else { throw AgeFailure.emptyFinalChunk(counter + 1) }
        if count == AgeFormat.sealedChunkSize {
            var extra: UInt8 = 0
            let more = try withUnsafeMutableBytes(of: &extra) { (byte) throws(BackupError) in
                try input.readFully(into: byte)
            }
            // The final chunk is authentic and released; the error comes after it, as age does.
            dataAfterEnd = more > 0
        }
        finished = true
        use(opened)
    }

    private func use(_ opened: Data) {
        plaintext = opened
        offset = 0
        counter += 1
    }

    /// The plaintext of the `count` sealed bytes in ``sealed`` under this chunk's nonce, or nil
    /// when they do not authenticate.
    private func open(_ count: Int, final: Bool) -> Data? {
        guard count >= AgeFormat.tagSize else { return nil }
        let nonce = AgePayload.nonce(counter: counter, final: final)
        sealed.withUnsafeMutableBytes { buffer in
            nonce.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 12) }
        }
        // The box shares the buffer's storage (no copy of the chunk); it is gone before the next read.
        let combined = count == AgeFormat.sealedChunkSize ? sealed : sealed.prefix(12 + count)
        guard let box = try? ChaChaPoly.SealedBox(combined: combined) else { return nil }
        return try? ChaChaPoly.open(box, using: payloadKey)
    }

    /// The file key from the first stanza a key opens. An scrypt stanza must be alone; a
    /// malformed stanza of a type a key is tried on fails the file, as the spec requires.
    static func unwrap(_ stanzas: [AgeStanza], keys: [AgeKey]) throws(BackupError) -> SymmetricKey {
        let hasScrypt = stanzas.contains { $0.type == AgeScryptStanza.type }
        if hasScrypt && stanzas.count > 1 {
            throw AgeFailure.malformedHeader("an scrypt stanza beside other stanzas (it must be alone)")
        }
        var triedPassphrase = false
        for stanza in stanzas {
            for key in keys {
                switch key {
                case .identity(let identity):
                    if let fileKey = try AgeX25519Stanza.unwrap(stanza, with: identity) { return fileKey }
                case .passphrase(let passphrase):
                    guard stanza.type == AgeScryptStanza.type else { continue }
                    triedPassphrase = true
                    if let fileKey = try AgeScryptStanza.unwrap(
                        stanza, passphrase: passphrase, maxWorkFactor: maxWorkFactor)
                    {
                        return fileKey
                    }
                }
            }
        }
        if triedPassphrase { throw AgeFailure.wrongPassphrase }
        if hasScrypt { throw AgeFailure.needsPassphrase }
        throw AgeFailure.noKeyOpens
    }
}
