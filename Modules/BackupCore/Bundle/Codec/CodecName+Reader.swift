import Foundation

/// How a bundle file reads: the codec and encryption its first bytes name, and the reader of
/// its tar stream.
struct BundleReading {
    /// The codec of the (decrypted) stream; nil when it names none or could not be read.
    var codec: CodecName?
    /// Whether the file is encrypted in the age format.
    var encrypted: Bool
    var reader: any DecompressingReader
}

extension CodecName {
    /// A reader for the bundle in `file`, by what its first bytes name: the age header first
    /// (then the stream is decrypted with `keys`, and the codec is what the decrypted stream's
    /// first bytes name), else the codec. `onCompressed` sees every byte of the file itself (the
    /// ciphertext of an encrypted bundle: its hash is below the decryption).
    ///
    /// A file that names no codec, or whose age header does not open, reads as a reader that
    /// reports it (and drains the file, so its hash is still reported). An encrypted bundle with
    /// no key at all, or that none of the keys opens, is thrown as
    /// ``BackupError/verificationFailed(reason:)``: that says nothing about the bundle itself.
    static func reader(
        for file: InputFile, keys: BundleKeys, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError) -> BundleReading {
        guard EncryptedBundle.isEncrypted(fileAt: file.url) else {
            guard let name = detect(fileAt: file.url) else {
                return BundleReading(
                    codec: nil, encrypted: false,
                    reader: UnrecognizedBundleReader(file: file, onCompressed: onCompressed))
            }
            return BundleReading(
                codec: name, encrypted: false, reader: try name.codec.reader(source: file, onCompressed: onCompressed))
        }
        let loaded = try keys.load()
        guard !loaded.isEmpty else { throw keys.noKeyFailure }
        let ciphertext = ObservedSource(file, onBytes: onCompressed)
        func unreadable(_ reason: String) -> BundleReading {
            BundleReading(
                codec: nil, encrypted: true, reader: UnrecognizedBundleReader(file: ciphertext, reason: reason) { _ in }
            )
        }
        do throws(BackupError) {
            let plaintext = PeekingSource(try AgeDecryptingReader(source: ciphertext, keys: loaded))
            let head = try plaintext.peek(count: allCases.map { $0.codec.magic.count }.max() ?? 0)
            guard let name = detect(head: head) else {
                return unreadable("the decrypted bundle is neither gzip- nor zstd-compressed")
            }
            let inner = try name.codec.reader(source: plaintext) { _ in }
            return BundleReading(codec: name, encrypted: true, reader: EncryptedBundleReader(inner, file: ciphertext))
        } catch .verificationFailed(let reason) where EncryptedBundle.isKeyFailure(reason) {
            throw .verificationFailed(reason: reason)
        } catch .verificationFailed(let reason) {
            return unreadable(reason)
        } catch {
            throw error
        }
    }

    /// A reader for the plain bundle in `file` (no key: an encrypted one is refused).
    static func reader(
        for file: InputFile, onCompressed: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(BackupError) -> (codec: CodecName?, reader: any DecompressingReader) {
        let reading = try reader(for: file, keys: .none, onCompressed: onCompressed)
        return (reading.codec, reading.reader)
    }
}
