import Crypto

/// Encrypts a stream into an age file: writes the header and the payload nonce to `sink` at init,
/// then one sealed 64 KiB chunk each time a full one is followed by more plaintext; ``finish()``
/// seals what is left as the final chunk.
///
/// Memory is constant: one chunk of plaintext is held (a write of more than a chunk is sealed
/// straight from the caller's buffer). Each sealed chunk goes to `sink` in one call, on the
/// caller's thread.
final class AgeEncryptingWriter {
    private let sink: CompressedSink
    private let payloadKey: SymmetricKey
    private let plaintext: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var counter: UInt64 = 0
    private var finished = false

    /// Writes the header for `lock` (a fresh file key wrapped for each recipient, or with the
    /// passphrase) and the payload nonce to `sink`.
    init(lock: AgeLock, sink: @escaping CompressedSink) throws(BackupError) {
        let fileKey = AgeFileKey.generate()
        var stanzas: [AgeStanza] = []
        switch lock {
        case .recipients(let recipients):
            guard !recipients.isEmpty else {
                throw .invalidInput(fields: ["recipients": "at least one recipient is needed to encrypt"])
            }
            for recipient in recipients { stanzas.append(try AgeX25519Stanza.wrap(fileKey: fileKey, to: recipient)) }
        case .passphrase(let passphrase, let workFactor):
            stanzas.append(try AgeScryptStanza.wrap(fileKey: fileKey, passphrase: passphrase, workFactor: workFactor))
        }
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
        self.sink = sink
        payloadKey = AgeFileKey.payloadKey(fileKey, nonce: nonce)
        plaintext = .allocate(byteCount: AgeFormat.chunkSize, alignment: 16)
        try (AgeHeader.encode(stanzas: stanzas, fileKey: fileKey) + nonce).withBytes { (bytes) throws(BackupError) in
            try sink(bytes)
        }
    }

    deinit { plaintext.deallocate() }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        precondition(!finished, "write after finish()")
        var offset = 0
        while offset < bytes.count {
            if filled == AgeFormat.chunkSize {
                try seal(UnsafeRawBufferPointer(plaintext), final: false)
                filled = 0
            }
            let remaining = bytes.count - offset
            // A whole chunk with more after it in the caller's buffer: sealed where it lies.
            if filled == 0 && remaining > AgeFormat.chunkSize {
                try seal(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + AgeFormat.chunkSize)]), final: false)
                offset += AgeFormat.chunkSize
                continue
            }
            let count = min(AgeFormat.chunkSize - filled, remaining)
            (plaintext.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            filled += count
            offset += count
        }
    }

    /// Seals what is held as the final chunk (empty only when nothing was written); called once.
    func finish() throws(BackupError) {
        precondition(!finished, "finish() called twice")
        try seal(UnsafeRawBufferPointer(rebasing: plaintext[0..<filled]), final: true)
        filled = 0
        finished = true
    }

    private func seal(_ chunk: UnsafeRawBufferPointer, final: Bool) throws(BackupError) {
        let box: ChaChaPoly.SealedBox
        do {
            box = try ChaChaPoly.seal(chunk, using: payloadKey, nonce: AgePayload.nonce(counter: counter, final: final))
        } catch {
            throw .io(path: "age", reason: "cannot encrypt chunk \(counter + 1): \(error)")
        }
        counter += 1
        // The combined box is nonce, ciphertext, tag: the file holds the last two.
        try box.combined.withBytes { (bytes) throws(BackupError) in
            try sink(UnsafeRawBufferPointer(rebasing: bytes[12...]))
        }
    }
}
