import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("help, version and completion requests print and exit 0, for both executables")
struct HelpCLITests {
    let backup = try! ChildProcess(product: "backup")
    let api = try! ChildProcess(product: "backup-api")

    /// The names listed under a help screen's `SUBCOMMANDS:` heading.
    static func subcommands(in help: String) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        guard let heading = lines.firstIndex(of: "SUBCOMMANDS:") else { return [] }
        var names: [String] = []
        for line in lines[(heading + 1)...] {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            // A name starts two spaces in; wrapped descriptions are indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else {
                continue
            }
            names.append(String(name))
        }
        return names
    }

    /// Expects a clean help screen for `backup path…` on standard output.
    func expectHelp(_ result: ChildProcess.Result, for path: [String], _ arguments: [String]) {
        let usage = (["backup"] + path).joined(separator: " ")
        #expect(result.status == 0, "\(arguments): exit \(result.status), \(result.stderr)")
        #expect(result.stderr.isEmpty, "\(arguments): \(result.stderr)")
        #expect(result.stdout.hasPrefix("OVERVIEW: "), "\(arguments): \(result.stdout.prefix(200))")
        #expect(result.stdout.contains("USAGE: \(usage)"), "\(arguments): \(result.stdout.prefix(300))")
        #expect(!result.stdout.contains("rror:"), "\(arguments): \(result.stdout.prefix(300))")
        #expect(!result.stdout.contains("CommandError"), "\(arguments)")
    }

    @Test("backup --help, -h, help and plain backup print the overview listing every subcommand")
    func rootHelp() throws {
        for arguments in [["--help"], ["-h"], ["help"], []] {
            let result = try backup.run(arguments)
            expectHelp(result, for: [], arguments)
            #expect(
                result.stdout.contains(
                    "OVERVIEW: Consistent backups of SQLite or PostgreSQL databases and their files."))
            #expect(
                Self.subcommands(in: result.stdout) == [
                    "create", "list", "show", "verify", "delete", "pin", "unpin", "prune", "stats", "settings",
                    "restore", "import", "export", "remote", "key", "doctor",
                ], "\(arguments)")
        }
        // Global options before --help are accepted too.
        expectHelp(try backup.run(["--json", "--help"]), for: [], ["--json", "--help"])
    }

    @Test("SUB --help, SUB -h and help SUB print the same help for every subcommand, nested ones too")
    func everySubcommand() throws {
        var pending = Self.subcommands(in: try backup.run(["--help"]).stdout).map { [$0] }
        var seen: [String] = []
        while let path = pending.popLast() {
            let long = try backup.run(path + ["--help"])
            expectHelp(long, for: path, path + ["--help"])
            let short = try backup.run(path + ["-h"])
            #expect(short.stdout == long.stdout, "\(path) -h")
            let viaHelp = try backup.run(["help"] + path)
            expectHelp(viaHelp, for: path, ["help"] + path)
            #expect(viaHelp.stdout == long.stdout, "help \(path)")
            seen.append(path.joined(separator: " "))
            let nested = Self.subcommands(in: long.stdout)
            // Every command that does something takes the global options.
            #expect(!nested.isEmpty || long.stdout.contains("--data-dir"), "\(path)")
            pending += nested.map { path + [$0] }
        }
        #expect(seen.count == 26)
        #expect(seen.contains("key generate") && seen.contains("key show"))
        #expect(seen.contains("settings show") && seen.contains("settings set"))
        #expect(
            ["remote test", "remote list", "remote push", "remote pull", "remote prune", "remote check"].allSatisfy(
                seen.contains))
        // A command group without its subcommand prints its own help.
        expectHelp(try backup.run(["settings"]), for: ["settings"], ["settings"])
    }

    @Test("--version prints the version and exits 0 for backup and backup-api")
    func version() throws {
        for process in [backup, api] {
            let result = try process.run(["--version"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == BackupManagerVersion.current + "\n")
            #expect(result.stderr.isEmpty)
        }
    }

    @Test("backup-api --help and -h print its options and exit 0 without starting a server")
    func serverHelp() throws {
        for flag in ["--help", "-h"] {
            let result = try api.run([flag])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty)
            #expect(result.stdout.contains("USAGE: backup-api"))
            #expect(result.stdout.contains("--data-dir"))
            #expect(result.stdout.contains("--restart-mode"))
        }
    }

    @Test("shell completion scripts are printed with exit 0")
    func completionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try backup.run(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            #expect(result.stderr.isEmpty)
            #expect(result.stdout.contains("backup"))
            #expect(result.stdout.contains("verify"), "\(shell): the script knows the subcommands")
        }
    }
}
