import BackupCore
import Foundation

/// Writes results as text (tables, local times, human sizes, colour on a terminal) or JSON.
struct Output {
    var json: Bool
    var color: Bool

    func printJSON(_ value: some Encodable) {
        guard let data = try? JSONEncoder.backupManager(pretty: true).encode(value) else { return }
        print(String(decoding: data, as: UTF8.self))
    }

    func line(_ text: String) {
        print(text)
    }

    /// A message on standard error (text mode) that --json keeps off standard output.
    func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    enum Colour: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case dim = "2"
    }

    func paint(_ text: String, _ colour: Colour) -> String {
        color ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Why a backup may not restore, when the last verification or reconciliation found out:
    /// list and show print it beside a warning mark.
    func warning(for info: BackupInfo) -> String? {
        if let verification = info.verification, !verification.ok {
            return "verification failed \(LocalTime.format(verification.checkedAt)): \(verification.error ?? "")"
        }
        if info.status == .missing { return info.error ?? "the bundle file is missing" }
        if let first = info.sourceWarnings.first {
            let more = info.sourceWarnings.count - 1
            return more > 0 ? "\(first) (and \(more) more warnings: backup show \(info.id))" : first
        }
        return nil
    }

    /// The status with a red `!` when there is a ``warning(for:)``.
    func paint(statusOf info: BackupInfo) -> String {
        paint(status: info.status) + (warning(for: info) == nil ? "" : " " + paint("!", .red))
    }

    func paint(status: BackupStatus) -> String {
        switch status {
        case .completed: paint(status.rawValue, .green)
        case .failed, .missing: paint(status.rawValue, .red)
        case .pending, .running: paint(status.rawValue, .yellow)
        case .cancelled: paint(status.rawValue, .dim)
        }
    }
}

/// Times as the operator reads them: local time zone, to the second.
enum LocalTime {
    static func format(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
