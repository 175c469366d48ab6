import Crypto
import Foundation

extension RemoteRepository {
    /// The chunks the trailer of the encrypted pack at `relative` (of `size` bytes) lists, read
    /// without downloading the pack: its age header (the first 4 KiB: one X25519 stanza is about
    /// 200 bytes), opened with the repository's `identity` and its MAC checked, then the last
    /// sealed chunks of its payload, each authenticated under its STREAM nonce (the final one
    /// flagged final), so the trailer's bytes are the pack's own. Two or three ranged GETs.
    func sealedTrailer(
        of relative: String, size: Int64, identity: AgeIdentity, with client: S3Client
    ) async throws(BackupError) -> [PackEntry] {
        let objectKey = key(relative)
        let damaged = { (what: String) in BackupError.verificationFailed(reason: "pack \(objectKey): \(what)") }
        let head = try await client.get(key: objectKey, range: 0...(min(size, 4096) - 1))
        guard let headerEnd = Self.ageHeaderEnd(in: head), head.count >= headerEnd + AgeFormat.nonceSize else {
            throw damaged("no age header and nonce in its first 4 KiB")
        }
        let header = try AgeHeader.read(from: AgeInput(source: MemorySource(Array(head[..<headerEnd]))))
        let fileKey = try AgeDecryptingReader.unwrap(header.stanzas, keys: [.identity(identity)])
        guard header.isAuthentic(fileKey: fileKey) else { throw AgeFailure.headerChanged }
        let payload = SealedPayload(
            key: AgeFileKey.payloadKey(fileKey, nonce: Array(head[headerEnd..<(headerEnd + AgeFormat.nonceSize)])),
            start: Int64(headerEnd + AgeFormat.nonceSize), size: size)
        guard payload.chunkCount > 0 else { throw damaged("no payload") }
        let smallest = Int64(PackFormat.magic.count + 8)
        guard payload.plainSize >= smallest else { throw damaged("shorter than a pack can be") }

        var first = max(0, payload.chunkCount - 2)
        var plain = try await payload.open(from: first, of: objectKey, with: client)
        let length = plain.suffix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        guard length > 0, length <= PackFormat.maximumTrailerBytes, length <= payload.plainSize - smallest else {
            throw damaged("its trailer length does not fit")
        }
        let trailerStart = payload.plainSize - 8 - length
        if trailerStart < first * Int64(AgeFormat.chunkSize) {
            first = trailerStart / Int64(AgeFormat.chunkSize)
            plain = try await payload.open(from: first, of: objectKey, with: client)
        }
        let base = first * Int64(AgeFormat.chunkSize)
        let bytes = plain[Int(trailerStart - base)..<Int(payload.plainSize - 8 - base)]
        do {
            return try JSONDecoder().decode(PackTrailer.self, from: Data(bytes)).chunks
        } catch {
            throw damaged("its trailer is not valid JSON")
        }
    }

    /// Where an age header ends in `bytes` (just after the newline of its `---` MAC line); nil
    /// when it does not end there.
    static func ageHeaderEnd(in bytes: [UInt8]) -> Int? {
        let mark: [UInt8] = Array("\n--- ".utf8)
        guard bytes.count > mark.count else { return nil }
        for start in 0...(bytes.count - mark.count) where bytes[start..<(start + mark.count)].elementsEqual(mark) {
            guard let end = bytes[(start + mark.count)...].firstIndex(of: 0x0A) else { return nil }
            return end + 1
        }
        return nil
    }
}

/// An age payload seen from outside: its key, where it starts in the object, and its chunks.
private struct SealedPayload {
    let key: SymmetricKey
    /// The payload's first byte in the object (after the header and the nonce).
    let start: Int64
    /// The object's size.
    let size: Int64

    var sealedSize: Int64 { size - start }
    var chunkCount: Int64 {
        (sealedSize + Int64(AgeFormat.sealedChunkSize) - 1) / Int64(AgeFormat.sealedChunkSize)
    }
    var plainSize: Int64 { sealedSize - chunkCount * Int64(AgeFormat.tagSize) }

    /// The plaintext of chunks `first` to the last, read with one ranged GET, each chunk
    /// authenticated.
    func open(from first: Int64, of objectKey: String, with client: S3Client) async throws(BackupError) -> [UInt8] {
        let offset = start + first * Int64(AgeFormat.sealedChunkSize)
        let sealed = try await client.get(key: objectKey, range: offset...(size - 1))
        guard Int64(sealed.count) == size - offset else {
            throw .verificationFailed(reason: "pack \(objectKey): a ranged read came back short")
        }
        var plain: [UInt8] = []
        var at = 0
        for counter in first..<chunkCount {
            let final = counter == chunkCount - 1
            let length = final ? sealed.count - at : AgeFormat.sealedChunkSize
            guard length >= AgeFormat.tagSize,
                let box = try? ChaChaPoly.SealedBox(
                    nonce: AgePayload.nonce(counter: UInt64(counter), final: final),
                    ciphertext: sealed[at..<(at + length - AgeFormat.tagSize)],
                    tag: sealed[(at + length - AgeFormat.tagSize)..<(at + length)]),
                let opened = try? ChaChaPoly.open(box, using: key)
            else { throw AgeFailure.chunkFailed(UInt64(counter) + 1) }
            plain += opened
            at += length
        }
        return plain
    }
}
