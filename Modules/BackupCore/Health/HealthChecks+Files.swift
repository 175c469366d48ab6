import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension HealthChecks {
    /// The data directory: nobody but its owner may write in it (0700 expected).
    func directoryMode() -> HealthCheck {
        let path = dataDirectory.root.path
        guard let mode = Self.mode(of: path) else {
            return HealthCheck(name: "data-directory", status: .fail, detail: "cannot read \(path)")
        }
        let shown = Self.octal(mode)
        if mode & 0o022 != 0 {
            return HealthCheck(
                name: "data-directory", status: .fail,
                detail: "\(path) is writable by group or others (mode \(shown))", fix: "chmod 700 \(path)")
        }
        if mode & 0o077 != 0 {
            return HealthCheck(
                name: "data-directory", status: .warn,
                detail: "\(path) is readable by group or others (mode \(shown)); 0700 expected",
                fix: "chmod 700 \(path)")
        }
        return .ok("data-directory", "\(path) (mode \(shown))")
    }

    /// Free space where backups are written, against what the last one needed (``SpaceNeed``):
    /// FAIL below it, WARN below twice it.
    func freeSpace(lastBackup: SpaceNeed?) -> HealthCheck {
        let backups = dataDirectory.backups.path
        let path = FileManager.default.fileExists(atPath: backups) ? backups : dataDirectory.root.path
        var figures = statvfs()
        guard statvfs(path, &figures) == 0 else {
            return HealthCheck(name: "free-space", status: .warn, detail: "cannot measure the free space of \(path)")
        }
        let free = Int64(figures.f_bavail) * Int64(figures.f_frsize)
        guard let last = lastBackup, last.bytes > 0 else {
            return .ok("free-space", "\(ByteCount.format(free)) free; no backup yet to compare with")
        }
        let compared = "\(ByteCount.format(free)) free, \(last.description)"
        let fix = "free space on \(path), lower retention (keep_last, keep_days) or move the data directory"
        if free < last.bytes {
            return HealthCheck(
                name: "free-space", status: .fail, detail: compared + ": the next one will not fit", fix: fix)
        }
        if free < last.bytes * 2 {
            return HealthCheck(
                name: "free-space", status: .warn, detail: compared + ": less than twice that is left", fix: fix)
        }
        return .ok("free-space", compared)
    }

    /// The secret files: the API token, the off-site secret, the Telegram bot token, the age
    /// identity and a passphrase file must be readable by their owner alone.
    func secretFiles(passphraseFile: String?) -> [HealthCheck] {
        var files: [(name: String, path: String)] = [
            ("api-token", dataDirectory.apiToken.path), ("offsite-secret", dataDirectory.offsiteSecret.path),
            ("telegram-token", dataDirectory.telegramToken.path), ("backup-key", dataDirectory.backupKey.path),
        ]
        if let passphraseFile { files.append(("passphrase-file", passphraseFile)) }
        return files.map { file in
            let (name, path) = (file.name, file.path)
            guard let mode = Self.mode(of: path) else { return .ok(name, "\(path) absent") }
            if mode & 0o077 != 0 {
                return HealthCheck(
                    name: name, status: .fail,
                    detail: "\(path) is readable by group or others (mode \(Self.octal(mode)))",
                    fix: "chmod 600 \(path)")
            }
            return .ok(name, "\(path) (mode \(Self.octal(mode)))")
        }
    }

    /// The permission bits of `path` (following a symbolic link), nil when it cannot be read.
    static func mode(of path: String) -> mode_t? {
        var information = stat()
        guard stat(path, &information) == 0 else { return nil }
        return information.st_mode & 0o7777
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// What the last backup needed on disk, the measure of the next one: a bundle's size; for an
/// incremental backup, its snapshot (or dump spool) in `.tmp/`, about the size it restores to,
/// beside what it added to the repository (a few MB after a small change).
struct SpaceNeed: Equatable {
    var bytes: Int64
    var description: String

    init?(_ backup: BackupInfo) {
        guard let size = backup.sizeBytes else { return nil }
        switch backup.format {
        case .bundle:
            bytes = size
            description = "the last backup took \(ByteCount.format(size))"
        case .incremental:
            let snapshot = backup.logicalBytes ?? 0
            bytes = snapshot + size
            description =
                "the last backup needed \(ByteCount.format(bytes)) (its snapshot of \(ByteCount.format(snapshot)) "
                + "while it ran, and \(ByteCount.format(size)) it added)"
        }
    }
}
