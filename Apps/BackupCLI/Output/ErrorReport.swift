import ArgumentParser
import BackupCore
import Foundation

/// The CLI's one way out for a failure. With `--json`: exactly one
/// `{"error": {"code", "message"}}` object on standard output and nothing on standard error;
/// otherwise exactly one `error: …` line on standard error.
struct ErrorReport: Equatable {
    var code: String
    var message: String
    var status: Int32

    /// The report for an error a command or the argument parser threw. Not for help, version
    /// and completion requests (output, not errors) nor for ``CommandFailure`` (already reported).
    init(_ error: any Error) {
        switch error {
        case let refusal as Refusal:
            self.init(code: refusal.code, message: refusal.message, status: refusal.status)
        case let error as BackupError:
            self.init(code: error.code, message: Self.message(for: error), status: ExitStatus.of(error))
        case let error where BackupCommand.exitCode(for: error) == .validationFailure:
            // The argument parser's own sentence ("Missing expected argument '<id>'"), in our
            // casing, pointing at the help of the command it concerns.
            var message = BackupCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            message = message.prefix(1).lowercased() + message.dropFirst()
            if let help = Self.helpHint(in: BackupCommand.fullMessage(for: error)) { message += " (see '\(help)')" }
            self.init(code: "usage", message: message, status: ExitStatus.usage)
        default:
            self.init(
                code: "internal_error",
                message: "unexpected failure, please report it: \(String(describing: error))",
                status: ExitStatus.failed)
        }
    }

    init(code: String, message: String, status: Int32) {
        self.code = code
        self.message = message
        self.status = status
    }

    /// Writes the report where it belongs; `color` paints `error:` red on a terminal.
    func write(json: Bool, color: Bool) {
        if json {
            struct Body: Encodable {
                struct Detail: Encodable {
                    var code: String
                    var message: String
                }
                var error: Detail
            }
            Output(json: true, color: false).printJSON(Body(error: .init(code: code, message: message)))
        } else {
            let prefix = Output(json: false, color: color).paint("error:", .red)
            let line = message.replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("\(prefix) \(line)\n".utf8))
        }
    }

    /// The core's message, with what only the CLI can add: the flag that sets a missing path.
    static func message(for error: BackupError) -> String {
        switch error {
        case .dataDirectoryMissing:
            error.message + "; give the data directory with --data-dir DIR or BACKUP_DATA_DIR "
                + "(create, import and settings set start a new one)"
        case .invalidInput(let fields) where fields.keys.sorted() == ["target_url"]:
            // The core names the restore's field; the CLI's operator typed --target-url.
            "invalid --target-url: " + (fields["target_url"] ?? "")
        default:
            error.message
        }
    }

    /// `backup list --help` from argument-parser's "See 'backup list --help' for more information."
    static func helpHint(in fullMessage: String) -> String? {
        guard let start = fullMessage.range(of: "See '")?.upperBound,
            let end = fullMessage[start...].firstIndex(of: "'")
        else { return nil }
        return String(fullMessage[start..<end])
    }
}
