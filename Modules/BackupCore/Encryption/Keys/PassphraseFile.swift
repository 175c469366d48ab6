import Foundation

/// A passphrase kept in a file (`encryption.passphrase_file`, `--passphrase-file`): its first
/// line, without the line break. The file must be the owner's alone (mode 0600), as every
/// secret file is; its content is never stored or shown.
public enum PassphraseFile {
    /// The passphrase in the file at `path`.
    public static func read(_ path: String) throws(BackupError) -> String {
        let url = URL(fileURLWithPath: path)
        guard FileOps.exists(url) else { throw .fileNotFound(path: path) }
        try SecretFile.checkPrivate(url)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw .io(path: path, reason: "cannot read it as text")
        }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let passphrase = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        guard !passphrase.isEmpty else { throw .io(path: path, reason: "holds no passphrase on its first line") }
        return passphrase
    }

    /// Why `path` cannot be a passphrase file, or nil when it can (read now, never kept).
    static func problem(with path: String) -> String? {
        guard path.hasPrefix("/"), !path.unicodeScalars.contains(where: OffsiteSettings.isControl) else {
            return "must be an absolute path"
        }
        do throws(BackupError) {
            _ = try read(path)
            return nil
        } catch .fileNotFound {
            return "does not exist"
        } catch .io(_, let reason) {
            return reason
        } catch {
            return error.message
        }
    }
}
