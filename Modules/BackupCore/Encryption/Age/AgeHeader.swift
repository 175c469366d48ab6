import Crypto

/// The header of an age file: the version line, the recipient stanzas, and the MAC line whose
/// HMAC-SHA-256 (under HKDF(file key, "header")) covers everything before it up to `---`.
struct AgeHeader {
    var stanzas: [AgeStanza]
    /// The MAC as written in the file.
    var mac: [UInt8]
    /// The header's bytes the MAC covers: from the version line to `---` included.
    var authenticated: [UInt8]

    /// The header for `stanzas` with its MAC under `fileKey`, as written at the start of a file.
    static func encode(stanzas: [AgeStanza], fileKey: SymmetricKey) -> [UInt8] {
        var bytes = AgeFormat.magic
        for stanza in stanzas { bytes += stanza.encoded }
        bytes += Array("---".utf8)
        let mac = Self.mac(of: bytes, fileKey: fileKey)
        return bytes + [0x20] + AgeBase64.encode(mac) + [0x0A]
    }

    static func mac(of authenticated: [UInt8], fileKey: SymmetricKey) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: [UInt8](), info: AgeFormat.headerLabel, outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: authenticated, using: key))
    }

    /// Whether the MAC written in the file is the one `fileKey` gives (compared in constant time).
    func isAuthentic(fileKey: SymmetricKey) -> Bool {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: [UInt8](), info: AgeFormat.headerLabel, outputByteCount: 32)
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: authenticated, using: key)
    }

    /// Reads the header from the start of `input`, leaving it at the payload's first byte.
    ///
    /// Refuses (as ``BackupError/verificationFailed(reason:)``) anything but the exact grammar of
    /// the spec: another version, CR line ends, non-canonical base64, a body line longer than 64
    /// columns or a stanza without its short final line, a missing or malformed MAC line.
    static func read(from input: AgeInput) throws(BackupError) -> AgeHeader {
        guard let version = try input.readLine(), !version.isEmpty else {
            throw AgeFailure.malformedHeader("the file is empty")
        }
        guard version == AgeFormat.magic else {
            if version.starts(with: AgeFormat.versionPrefix) {
                throw AgeFailure.malformedHeader("unsupported age version (only age-encryption.org/v1 is read)")
            }
            throw AgeFailure.malformedHeader("not an age file (no age-encryption.org/v1 line)")
        }
        var authenticated = version
        var stanzas: [AgeStanza] = []
        while true {
            let line = try nextLine(input, after: authenticated)
            if line.starts(with: Array("---".utf8)) {
                authenticated += Array("---".utf8)
                let mac = try parseMAC(line)
                guard !stanzas.isEmpty else { throw AgeFailure.malformedHeader("no recipient stanza") }
                return AgeHeader(stanzas: stanzas, mac: mac, authenticated: authenticated)
            }
            guard line.starts(with: Array("-> ".utf8)) else {
                throw AgeFailure.malformedHeader("a line that is neither a stanza (->) nor the MAC (---)")
            }
            authenticated += line
            let arguments = line.dropFirst(3).dropLast().split(separator: 0x20, omittingEmptySubsequences: false)
            guard !arguments.isEmpty,
                arguments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } })
            else { throw AgeFailure.malformedHeader("a stanza with an empty or invalid argument") }
            var body: [UInt8] = []
            while true {
                let bodyLine = try nextLine(input, after: authenticated)
                authenticated += bodyLine
                let text = bodyLine.dropLast()
                guard text.count <= AgeFormat.columnsPerLine, let bytes = AgeBase64.decode(text) else {
                    throw AgeFailure.malformedHeader(
                        "a stanza body line that is not canonical base64 of 64 columns at most")
                }
                body += bytes
                if text.count < AgeFormat.columnsPerLine { break }
            }
            stanzas.append(AgeStanza(arguments: arguments.map { String(decoding: $0, as: UTF8.self) }, body: body))
        }
    }

    /// The next header line, which must end with LF (and keep the header within its limit).
    private static func nextLine(_ input: AgeInput, after authenticated: [UInt8]) throws(BackupError) -> [UInt8] {
        guard authenticated.count <= AgeFormat.maxHeaderLength else {
            throw AgeFailure.malformedHeader("the header is longer than \(AgeFormat.maxHeaderLength >> 20) MiB")
        }
        guard let line = try input.readLine() else { throw AgeFailure.malformedHeader("a header line is too long") }
        guard line.last == 0x0A else { throw AgeFailure.malformedHeader("the file ends inside the header") }
        return line
    }

    /// `--- ` and 43 base64 characters (32 bytes), then LF.
    private static func parseMAC(_ line: [UInt8]) throws(BackupError) -> [UInt8] {
        guard line.count == 4 + 43 + 1, line[3] == 0x20, let mac = AgeBase64.decode(line[4..<47]), mac.count == 32
        else { throw AgeFailure.malformedHeader("the MAC line is not `--- ` and a canonical base64 MAC") }
        return mac
    }
}
