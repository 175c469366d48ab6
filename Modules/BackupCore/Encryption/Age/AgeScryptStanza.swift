import Crypto
import _CryptoExtras

/// The scrypt recipient type: the file key wrapped under a key derived from a passphrase
/// (`-> scrypt <salt> <work factor>`); it must be the header's only stanza.
enum AgeScryptStanza {
    static let type = "scrypt"
    /// The work factors a file may ask for when written (2^1 to 2^30 iterations of scrypt).
    static let workFactors = 1...30

    /// A stanza for `passphrase`, with a fresh 16-byte salt and N = 2^`workFactor`.
    static func wrap(fileKey: SymmetricKey, passphrase: String, workFactor: Int) throws(BackupError) -> AgeStanza {
        guard !passphrase.isEmpty else { throw .invalidInput(fields: ["passphrase": "the passphrase is empty"]) }
        guard workFactors.contains(workFactor) else {
            throw .invalidInput(fields: ["work_factor": "the scrypt work factor must be 1 to 30, not \(workFactor)"])
        }
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
        do {
            let wrapKey = try deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
            let body = try AgeFileKey.seal(fileKey, with: wrapKey)
            let arguments = [type, String(decoding: AgeBase64.encode(salt), as: UTF8.self), String(workFactor)]
            return AgeStanza(arguments: arguments, body: body)
        } catch {
            throw .io(path: "age", reason: "cannot wrap the file key with scrypt: \(error)")
        }
    }

    /// The file key if `stanza` is an scrypt stanza `passphrase` opens; nil when it is another
    /// type or the passphrase is wrong. Throws for a malformed stanza or a work factor above
    /// `maxWorkFactor` (it would take too long and too much memory to try).
    static func unwrap(
        _ stanza: AgeStanza, passphrase: String, maxWorkFactor: Int
    ) throws(BackupError)
        -> SymmetricKey?
    {
        guard stanza.type == type else { return nil }
        guard stanza.arguments.count == 3, let salt = AgeBase64.decode(Array(stanza.arguments[1].utf8)),
            salt.count == 16
        else { throw AgeFailure.malformedHeader("an scrypt stanza whose salt is not 16 bytes of canonical base64") }
        let text = Array(stanza.arguments[2].utf8)
        guard let first = text.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"), text.count <= 2,
            text.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let workFactor = Int(stanza.arguments[2])
        else { throw AgeFailure.malformedHeader("an scrypt stanza whose work factor is not a decimal number") }
        guard workFactor <= maxWorkFactor else {
            throw AgeFailure.malformedHeader(
                "the scrypt work factor \(workFactor) is above the \(maxWorkFactor) this reader accepts")
        }
        guard stanza.body.count == 32 else {
            throw AgeFailure.malformedHeader("an scrypt stanza whose body is not 32 bytes")
        }
        guard let wrapKey = try? deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor) else {
            throw .io(path: "age", reason: "scrypt failed (work factor \(workFactor): not enough memory?)")
        }
        return AgeFileKey.open(stanza.body, with: wrapKey)
    }

    /// scrypt(N = 2^workFactor, r = 8, p = 1) of the passphrase, salted with the label and `salt`.
    private static func deriveKey(passphrase: String, salt: [UInt8], workFactor: Int) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: Array(passphrase.utf8), salt: AgeFormat.scryptLabel + salt, outputByteCount: 32,
            rounds: 1 << workFactor, blockSize: 8, parallelism: 1)
    }
}
