import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Facts about the terminal the CLI writes to.
enum Terminal {
    enum Stream {
        case standardOutput, standardError
    }

    static func isTerminal(_ stream: Stream) -> Bool {
        isatty(stream == .standardOutput ? STDOUT_FILENO : STDERR_FILENO) == 1
    }

    /// Whether standard input is a terminal, so a question can be answered.
    static var isStandardInputTerminal: Bool {
        isatty(STDIN_FILENO) == 1
    }

    /// False when `NO_COLOR` is set or the terminal is dumb.
    static var allowsColor: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    static func readLine(prompt: String) -> String? {
        FileHandle.standardError.write(Data(prompt.utf8))
        return Swift.readLine()
    }
}
