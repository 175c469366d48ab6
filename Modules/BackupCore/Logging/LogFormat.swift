import Foundation
import Logging

/// How the executables write their log lines: `text` (swift-log's human-readable lines, the
/// default) or `json` (one ``JSONLogHandler`` object per line on standard error, for log
/// shippers). Chosen by `--log-format` or `BACKUP_LOG_FORMAT`.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json

    /// The environment variable read when no `--log-format` is given.
    public static let environmentVariable = "BACKUP_LOG_FORMAT"

    /// The raw value `BACKUP_LOG_FORMAT` holds, or `text` when it is unset or empty; the faces
    /// validate it (a bad value is a usage error naming the option).
    public static var environmentValue: String {
        let value = ProcessInfo.processInfo.environment[environmentVariable] ?? ""
        return value.isEmpty ? LogFormat.text.rawValue : value
    }

    /// The sentence a face shows for a value that is neither format.
    public static let usage = "--log-format must be text or json (env BACKUP_LOG_FORMAT)"

    /// Whether `arguments` (a command line, `--log-format V` or `--log-format=V`) or else the
    /// environment ask for JSON, read without parsing the rest: a face uses it to report a
    /// command line that does not parse in the format the operator asked for.
    public static func requested(in arguments: [String], environment: [String: String]) -> LogFormat? {
        var value = environment[environmentVariable]
        var index = 0
        while index < arguments.count, arguments[index] != "--" {
            let argument = arguments[index]
            if argument == "--log-format", index + 1 < arguments.count {
                value = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--log-format=") {
                value = String(argument.dropFirst("--log-format=".count))
            }
            index += 1
        }
        return value.flatMap(LogFormat.init(rawValue:))
    }

    /// The handler for a logger named `label`, at `level`. Text lines go to standard output or
    /// standard error as `textToStandardError` says; JSON lines always go to standard error.
    public func handler(label: String, level: Logger.Level, textToStandardError: Bool) -> any LogHandler {
        var handler: any LogHandler
        switch self {
        case .text:
            handler =
                textToStandardError
                ? StreamLogHandler.standardError(label: label) : StreamLogHandler.standardOutput(label: label)
        case .json:
            handler = JSONLogHandler(label: label)
        }
        handler.logLevel = level
        return handler
    }

    /// Makes every `Logger` of the process write in this format at `level` (a swift-log level
    /// name; `info` when nil or not one). Call it once, at the start of an executable
    /// (swift-log allows one bootstrap per process); in-process tests never call it.
    public func bootstrap(level name: String?, textToStandardError: Bool) {
        let format = self
        let level = name.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            format.handler(label: label, level: level, textToStandardError: textToStandardError)
        }
    }
}
