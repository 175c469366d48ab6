import Foundation
import Synchronization

/// The sessions signed out before their expiry, kept in `DATA_DIR/revoked-sessions` (mode 0600)
/// so that a copied cookie dies at sign-out, also across a restart.
///
/// One line per session, `ID EXPIRES`; a line is dropped once its session would have expired
/// anyway, so the file stays as small as the number of sign-outs in the last twelve hours.
public final class SessionRevocations: Sendable {
    private let file: URL?
    /// Session id → expiry (Unix seconds).
    private let revoked: Mutex<[String: Int64]>

    /// Loads the list of `dataDirectory` (empty when the file does not exist yet).
    public init(dataDirectory: DataDirectory) {
        let file = dataDirectory.root.appendingPathComponent("revoked-sessions")
        self.file = file
        revoked = Mutex(Self.load(file))
    }

    /// A list kept in memory only (tests).
    public init() {
        file = nil
        revoked = Mutex([:])
    }

    /// Whether the session `id` was signed out.
    public func contains(_ id: String) -> Bool {
        revoked.withLock { $0[id] != nil }
    }

    /// Records that session `id` (valid until `expires`) has ended, durably before returning.
    public func revoke(_ id: String, expires: Int64, now: Date) throws(BackupError) {
        // Written under the lock, so two sign-outs at once cannot interleave their files.
        try revoked.withLock { (revoked: inout [String: Int64]) throws(BackupError) in
            let now = Int64(now.timeIntervalSince1970)
            revoked = revoked.filter { $0.value >= now }
            revoked[id] = expires
            try save(revoked.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined())
        }
    }

    private func save(_ lines: String) throws(BackupError) {
        guard let file else { return }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".revoked-sessions.new")
        FileOps.removeIfPresent(temporary)
        let output = try OutputFile(creating: temporary, mode: 0o600)
        defer { output.close() }
        try output.write(Array(lines.utf8))
        try output.sync()
        try FileOps.rename(temporary, to: file)
        try FileOps.fsyncDirectory(file.deletingLastPathComponent())
    }

    private static func load(_ file: URL) -> [String: Int64] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        var revoked: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let expires = Int64(parts[1]) else { continue }
            revoked[String(parts[0])] = expires
        }
        return revoked
    }
}
